"""/completar: five likely words per blank, blanks spelled three ways, checked before the model."""

from __future__ import annotations

import pytest

from bot import texts
from handlers.completar import MAX_BLANKS, TOP_K
from tests.handlers.conftest import Chat, plain, requests_of


@pytest.mark.parametrize("blank", ["<mask>", "[MASK]", "___", "<MASK>"])
async def test_each_spelling_of_the_blank_gets_five_words(chat: Chat, blank: str) -> None:
    reply = await chat.command("completar", f"La capital de Francia es {blank}.")
    assert plain(reply).count("\u00a0%") == TOP_K
    assert requests_of(chat.services, "fill_mask") == 1


async def test_the_best_sentence_is_shown_escaped(chat: Chat) -> None:
    reply = await chat.command("completar", "Si 2 < 3 & <mask> entonces")
    assert "Si 2 &lt; 3 &amp; " in reply.parts[0]


async def test_two_blanks_get_a_list_each(chat: Chat) -> None:
    reply = await chat.command("completar", "El ___ come ___ en la cocina.")
    assert plain(reply).count("\u00a0%") == 2 * TOP_K
    assert "Hueco 2" in plain(reply)


async def test_a_text_without_blank_gets_an_example_and_no_model_run(chat: Chat) -> None:
    reply = await chat.command("completar", "La capital de Francia es París.")
    example = texts.COMMAND_TEXTS["completar"].example
    assert example in plain(reply)
    assert requests_of(chat.services, "fill_mask") == 0


async def test_too_many_blanks_are_refused(chat: Chat) -> None:
    reply = await chat.command("completar", " y ".join(["___"] * (MAX_BLANKS + 1)))
    assert str(MAX_BLANKS) in plain(reply)
    assert requests_of(chat.services, "fill_mask") == 0


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("completar")).startswith("Uso: /completar")
