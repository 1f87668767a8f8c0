"""Button presses: the command of the button runs on the text saved behind it."""

from __future__ import annotations

import pytest

from bot import texts
from tests.handlers.conftest import Chat, button_data, requests_of

TEXT = "Hoy hace un día precioso en la playa de Cádiz."


async def offer(chat: Chat, text: str = TEXT) -> dict[str, str]:
    """The buttons under a plain message: command -> callback data."""
    reply = await chat.say(text)
    return {data.split(":")[0]: data for data in button_data(reply)}


@pytest.mark.parametrize(
    ("command", "task"),
    [
        ("traducir", "translate_es_en"),
        ("resumir", "summarize"),
        ("sentimiento", "sentiment"),
        ("idioma", "language"),
        ("clasificar", "zero_shot"),
        ("pos", "pos"),
    ],
)
async def test_a_button_runs_its_command_on_the_saved_text(
    chat: Chat, command: str, task: str
) -> None:
    buttons = await offer(chat)
    reply = await chat.press(buttons[command])
    assert reply.parts
    assert requests_of(chat.services, task) == 1


async def test_a_button_can_be_pressed_again(chat: Chat) -> None:
    buttons = await offer(chat)
    await chat.press(buttons["sentimiento"])
    await chat.press(buttons["sentimiento"])
    assert requests_of(chat.services, "sentiment") == 2


async def test_the_contexto_button_sets_the_reading_text(chat: Chat) -> None:
    buttons = await offer(chat)
    await chat.press(buttons["contexto"])
    assert await chat.services.store.get_context(chat.chat_id) == TEXT


async def test_a_button_of_another_chat_does_not_work_here(chat: Chat) -> None:
    buttons = await offer(chat)
    reply = await chat.elsewhere(999).press(buttons["traducir"])
    assert reply.parts == [texts.ERROR_EXPIRED_BUTTON]


@pytest.mark.parametrize(
    "data", ["traducir:987654", "traducir:abc", "traducir", "borrar:1", "estado:1", ":1"]
)
async def test_unknown_or_expired_buttons_say_so(chat: Chat, data: str) -> None:
    await offer(chat)
    reply = await chat.press(data)
    assert reply.parts == [texts.ERROR_EXPIRED_BUTTON]
