"""/olvidar: everything stored for the chat goes, and nothing of other chats."""

from __future__ import annotations

from bot import texts
from tests.handlers.conftest import Chat, button_data


async def test_forget_removes_reading_text_question_mode_and_buttons(chat: Chat) -> None:
    store = chat.services.store
    offer = await chat.say("Un texto para los botones.")
    await chat.command("contexto", "Ana vive en Lima.")
    await chat.command("pregunta")
    other = chat.elsewhere(200)
    await other.command("contexto", "Otro chat, otro texto.")

    reply = await chat.command("olvidar")

    assert reply.parts == [texts.FORGOTTEN]
    assert await store.get_context(chat.chat_id) is None
    assert not await store.in_questions(chat.chat_id, chat.user_id, 3600)
    assert (await chat.press(button_data(offer)[0])).parts == [texts.ERROR_EXPIRED_BUTTON]
    assert await store.get_context(other.chat_id) == "Otro chat, otro texto."


async def test_forget_on_an_empty_chat_still_confirms(chat: Chat) -> None:
    assert (await chat.command("olvidar")).parts == [texts.FORGOTTEN]
