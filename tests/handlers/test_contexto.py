"""/contexto: setting, extending and reading the chat's reading text."""

from __future__ import annotations

from bot import texts
from tests.handlers.conftest import Chat, MakeServices, plain

TEXT = "Ana vive en Lima. Trabaja en una biblioteca."
MORE = "Su hermano vive en Quito."


async def test_the_text_becomes_the_reading_text(chat: Chat) -> None:
    reply = await chat.command("contexto", f"  {TEXT}  ")
    assert await chat.services.store.get_context(chat.chat_id) == TEXT
    assert str(len(TEXT)) in plain(reply)
    assert "/pregunta" in plain(reply)


async def test_a_new_text_replaces_the_old_one(chat: Chat) -> None:
    await chat.command("contexto", TEXT)
    await chat.command("contexto", MORE)
    assert await chat.services.store.get_context(chat.chat_id) == MORE


async def test_replying_adds_the_message_to_the_reading_text(chat: Chat) -> None:
    await chat.command("contexto", TEXT)
    reply = await chat.command("contexto", reply_text=MORE)
    reading = await chat.services.store.get_context(chat.chat_id)
    assert reading is not None
    assert reading.startswith(TEXT) and reading.endswith(MORE)
    assert str(len(reading)) in plain(reply)


async def test_replying_without_a_reading_text_starts_one(chat: Chat) -> None:
    await chat.command("contexto", reply_text=MORE)
    assert await chat.services.store.get_context(chat.chat_id) == MORE


async def test_a_txt_document_becomes_the_reading_text(chat: Chat) -> None:
    await chat.command("contexto", document_text=f"{TEXT}\n")
    assert await chat.services.store.get_context(chat.chat_id) == TEXT


async def test_document_problems_are_worded_in_spanish(chat: Chat) -> None:
    too_big = await chat.command("contexto", document_error="too_big")
    limit_kb = chat.services.settings.max_document_bytes // 1024
    assert too_big.parts == [texts.ERROR_DOCUMENT_TOO_BIG.format(limit_kb=limit_kb)]
    assert (await chat.command("contexto", document_error="not_text")).parts == [
        texts.ERROR_DOCUMENT_KIND
    ]
    assert (await chat.command("contexto", document_error="encoding")).parts == [
        texts.ERROR_DOCUMENT_ENCODING
    ]
    assert await chat.services.store.get_context(chat.chat_id) is None


async def test_a_reading_text_over_the_limit_is_refused(make_services: MakeServices) -> None:
    services = await make_services(max_input_chars=60)
    chat = Chat(services)
    await chat.command("contexto", TEXT)
    reply = await chat.command("contexto", reply_text=MORE * 2)
    assert "60" in plain(reply)
    assert await services.store.get_context(chat.chat_id) == TEXT


async def test_reading_texts_of_two_chats_never_mix(chat: Chat) -> None:
    other = chat.elsewhere(200, "group")
    await chat.command("contexto", TEXT)
    await other.command("contexto", MORE)
    await other.command("contexto", reply_text="Y su prima en Cuzco.")
    assert await chat.services.store.get_context(chat.chat_id) == TEXT
    assert "Cuzco" in (await chat.services.store.get_context(other.chat_id) or "")


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("contexto")).startswith("Uso: /contexto")
