"""The table of commands: a new command is one module and one row, and everything follows."""

from __future__ import annotations

import dataclasses
import importlib
import io
import re
from pathlib import Path

import pytest

from bot import texts
from bot.console import ConsoleChat
from handlers import commands
from handlers.commands import COMMANDS, all_names, button_names, menu, offered_rows
from tests.handlers import command_eco
from tests.handlers.conftest import Chat, button_data, plain

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = "Mañana vamos a la playa si no llueve."
# Telegram's rules for setMyCommands.
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
MAX_DESCRIPTION = 256


@pytest.fixture
def eco(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table with /eco added at its end, with a button in the second row."""
    command_eco.install(monkeypatch)


# A new command
async def test_a_new_row_answers_its_name_and_its_aliases(chat: Chat, eco: None) -> None:
    for name in ("eco", "repite"):
        reply = await chat.command(name, "hola <b>")
        assert plain(reply) == f"{command_eco.REPLY_MARK} hola <b>"


async def test_a_new_command_without_text_gets_the_usage_from_its_texts(
    chat: Chat, eco: None
) -> None:
    reply = await chat.command("eco")
    written = command_eco.TEXTS
    assert plain(reply) == f"Uso: {written.usage}\nEjemplo: {written.example}"


async def test_a_new_command_is_listed_in_help_with_its_example(chat: Chat, eco: None) -> None:
    reply = await chat.command("ayuda")
    help_lines = plain(reply).splitlines()
    at = help_lines.index(f"/eco — {command_eco.TEXTS.menu}")
    assert help_lines[at + 1].strip() == command_eco.TEXTS.example
    assert at > help_lines.index(f"/estado — {texts.COMMAND_TEXTS['estado'].menu}")
    assert not any(line.startswith("/repite") for line in help_lines)  # aliases stay out


def test_a_new_command_is_in_the_phones_menu(eco: None) -> None:
    assert menu()[-1] == ("eco", command_eco.TEXTS.menu)
    assert "repite" not in dict(menu())


async def test_a_new_command_with_a_button_is_offered_and_runs_when_pressed(
    chat: Chat, eco: None
) -> None:
    reply = await chat.say(TEXT)
    assert [button.label for button in reply.buttons[1]] == [
        texts.COMMAND_TEXTS["sentimiento"].button,
        texts.COMMAND_TEXTS["idioma"].button,
        command_eco.TEXTS.button,
    ]
    [data] = [d for d in button_data(reply) if d.startswith("eco:")]
    pressed = await chat.press(data)
    assert plain(pressed) == f"{command_eco.REPLY_MARK} {TEXT}"


async def test_a_new_command_without_a_button_is_not_offered_nor_pressable(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_eco.install(monkeypatch, dataclasses.replace(command_eco.ROW, button_row=None))
    reply = await chat.say(TEXT)
    assert not [d for d in button_data(reply) if d.startswith("eco:")]
    text_id = button_data(reply)[0].split(":")[1]
    forged = await chat.press(f"eco:{text_id}")
    assert forged.parts == [texts.ERROR_EXPIRED_BUTTON]


async def test_a_row_in_a_new_button_row_gets_a_row_of_its_own(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_eco.install(monkeypatch, dataclasses.replace(command_eco.ROW, button_row=9))
    reply = await chat.say(TEXT)
    assert [b.data.split(":")[0] for b in reply.buttons[-1]] == ["eco"]


# The table as it stands
def test_every_command_has_its_texts_and_no_text_is_left_without_a_command() -> None:
    assert set(texts.COMMAND_TEXTS) == {command.name for command in COMMANDS}


def test_a_label_exactly_where_there_is_a_button() -> None:
    for command in COMMANDS:
        assert bool(texts.COMMAND_TEXTS[command.name].button) == (command.button_row is not None)


def test_names_are_unique_and_valid_for_the_telegram_menu() -> None:
    names = all_names()
    assert len(names) == len(set(names))
    for name, description in menu():
        assert COMMAND_NAME.fullmatch(name), name
        assert 0 < len(description) <= MAX_DESCRIPTION


def test_every_row_names_a_module_with_a_handle() -> None:
    for command in COMMANDS:
        assert callable(importlib.import_module(command.module).handle), command.module


def test_unknown_names_have_no_handler() -> None:
    assert commands.handler_for("bailar") is None
    assert commands.handler_for("") is None


def test_only_the_offered_buttons_and_the_poems_own_can_be_pressed() -> None:
    offered = [name for row in offered_rows() for name in row]
    assert sorted(button_names()) == sorted([*offered, "poema"])


async def test_the_console_shows_the_buttons_as_the_readme_does(chat: Chat) -> None:
    [shown] = [line for line in README.read_text().splitlines() if line.startswith("[1] ")]
    out = io.StringIO()
    await ConsoleChat(chat.services, out=out).handle_line("Me ha encantado la película")
    assert shown in out.getvalue().splitlines()
