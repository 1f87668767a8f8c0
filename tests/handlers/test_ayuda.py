"""/start and /ayuda: every command with an example, in valid Telegram HTML."""

from __future__ import annotations

from bot import texts
from handlers.commands import menu
from tests.handlers.conftest import Chat, plain

# The order users know from the menu and the help.
MENU_ORDER = [
    "ayuda",
    "traducir",
    "resumir",
    "contexto",
    "pregunta",
    "fin",
    "olvidar",
    "clasificar",
    "sentimiento",
    "idioma",
    "completar",
    "poema",
    "pos",
    "transcribir",
    "estado",
    "autotraducir",
    "memoria",
    "resumen_chat",
    "tokens",
]


async def test_help_lists_every_command_of_the_menu_in_its_order(chat: Chat) -> None:
    for command in ("start", "ayuda", "help"):
        help_lines = plain(await chat.command(command)).splitlines()
        listed = [line.split(" — ")[0] for line in help_lines if line.startswith("/")]
        assert listed == [f"/{name}" for name in MENU_ORDER]
        for name, description in menu():
            assert f"/{name} — {description}" in help_lines


async def test_help_shows_each_example_under_its_command(chat: Chat) -> None:
    help_lines = plain(await chat.command("ayuda")).splitlines()
    for name, _ in menu():
        example = texts.COMMAND_TEXTS[name].example
        at = next(i for i, line in enumerate(help_lines) if line.startswith(f"/{name} — "))
        following = help_lines[at + 1]
        if example:
            assert following.strip() == example
        else:
            assert following == "" or following.startswith("/"), name  # the next command


async def test_unknown_command_points_to_help(chat: Chat) -> None:
    reply = await chat.command("bailar", "un tango")
    assert "/ayuda" in plain(reply)


async def test_every_command_without_text_answers_with_usage_and_example(chat: Chat) -> None:
    for name, _ in menu():
        written = texts.COMMAND_TEXTS[name]
        if not written.usage or name in ("pregunta", "autotraducir", "memoria", "resumen_chat"):
            # /pregunta alone starts question mode (see test_pregunta); the group commands alone
            # say their state or summarise (see test_group_utilities)
            continue
        reply = await chat.command(name)
        assert plain(reply) == f"Uso: {written.usage}\nEjemplo: {written.example}", name
