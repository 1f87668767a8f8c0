"""Plain messages: buttons where the bot is spoken to, silence elsewhere in groups."""

from __future__ import annotations

from bot import texts
from tests.handlers.conftest import BEA, Chat, MakeServices, button_data

TEXT = "Mañana vamos a la playa si no llueve."
ACTIONS = ["traducir", "resumir", "sentimiento", "idioma", "clasificar", "pos", "contexto"]


async def test_a_private_message_gets_one_button_per_action(chat: Chat) -> None:
    reply = await chat.say(TEXT)
    assert reply.parts == [texts.CHOOSE_ACTION]
    data = button_data(reply)
    assert [d.split(":")[0] for d in data] == ACTIONS
    ids = {d.split(":")[1] for d in data}
    assert len(ids) == 1  # the text is saved once, for every button
    assert await chat.services.store.get_text(chat.chat_id, int(ids.pop())) == TEXT


async def test_a_group_message_gets_no_answer(group: Chat) -> None:
    reply = await group.as_user(BEA).say(TEXT)
    assert reply.parts == [] and reply.buttons == []


async def test_a_group_message_replying_to_the_bot_gets_buttons(group: Chat) -> None:
    reply = await group.say(TEXT, reply_text="¿Qué hago con este texto?", replies_to_bot=True)
    assert len(button_data(reply)) == len(ACTIONS)


async def test_a_private_document_gets_buttons_for_its_text(chat: Chat) -> None:
    reply = await chat.say("", document_text=f"{TEXT}\n")
    text_id = int(button_data(reply)[0].split(":")[1])
    assert await chat.services.store.get_text(chat.chat_id, text_id) == TEXT


async def test_an_unreadable_document_is_explained_in_private_only(chat: Chat, group: Chat) -> None:
    assert (await chat.say("", document_error="encoding")).parts == [texts.ERROR_DOCUMENT_ENCODING]
    assert (await group.say("", document_error="encoding")).parts == []


async def test_long_texts_still_fit_in_the_button_data(chat: Chat) -> None:
    reply = await chat.say("palabra " * 2000)
    assert len(button_data(reply)) == len(ACTIONS)  # check_reply holds each to 64 bytes


async def test_a_text_over_the_limit_is_refused_at_once_instead_of_offering_buttons(
    make_services: MakeServices,
) -> None:
    chat = Chat(await make_services(max_input_chars=100))
    text = "palabra " * 30
    reply = await chat.say(text)
    assert reply.parts == [texts.ERROR_TOO_LONG.format(length=len(text.strip()), limit=100)]
    assert not reply.buttons
