"""/poema: a poem from the user's opening, and an "Otro" button that writes another."""

from __future__ import annotations

from typing import Any

import pytest

from bot import texts
from bot.engine.results import GeneratedText
from bot.request import Button
from handlers.poema import poem_reply
from tests.handlers.conftest import Chat, button_data, plain

OPENING = "La luna <sobre> el mar & la arena"


@pytest.fixture
def seeds(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The seed of every poem the engine is asked for."""
    engine = chat.services.engine
    run = engine.run
    seen: list[Any] = []

    async def spy(task: str, inputs: list[Any], **params: Any) -> list[Any]:
        if task == "poem":
            seen.append(params.get("seed"))
        return await run(task, inputs, **params)

    monkeypatch.setattr(engine, "run", spy)
    return seen


async def test_a_poem_starts_with_the_escaped_opening(chat: Chat) -> None:
    reply = await chat.command("poema", OPENING)
    assert reply.parts[0].startswith("<b>La luna &lt;sobre&gt; el mar &amp; la arena</b>") or (
        reply.parts == [texts.POEM_EMPTY]
    )


async def test_otro_writes_another_poem_from_the_same_opening(chat: Chat, seeds: list[Any]) -> None:
    first = await chat.command("poema", OPENING)
    [data] = button_data(first)
    assert data.startswith("poema:")
    assert await chat.services.store.get_text(chat.chat_id, int(data.split(":")[1])) == OPENING

    second = await chat.press(data)
    assert second.parts
    [again] = button_data(second)
    assert again.startswith("poema:")
    # No seed: each poem is a fresh draw that can share a batch with other chats' poems.
    assert seeds == [None, None]


def test_generated_control_characters_never_reach_the_user() -> None:
    poem = GeneratedText("Hola\x00 mundo\ufffd\x1b\ny luna", "Hola")
    reply = poem_reply(poem, again=Button(texts.POEM_AGAIN, "poema:1"))
    assert reply.parts == ["<b>Hola</b> mundo\ny luna"]


def test_a_poem_with_nothing_new_still_says_something() -> None:
    reply = poem_reply(GeneratedText("Hola ", "Hola"), again=Button(texts.POEM_AGAIN, "poema:1"))
    assert reply.parts == [texts.POEM_EMPTY]
    assert reply.buttons  # one may still ask for another


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("poema")).startswith("Uso: /poema")


async def test_control_characters_of_the_opening_are_not_sent_back(chat: Chat) -> None:
    reply = await chat.command("poema", "La luna\x00 sobre\x07 el mar")
    assert "\x00" not in plain(reply) and "\x07" not in plain(reply)
