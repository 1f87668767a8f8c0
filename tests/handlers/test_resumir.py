"""/resumir: a summary for short and long texts, and a sentence even when the model is mute."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Summary
from handlers.resumir import summary_reply
from tests.handlers.conftest import Chat, MakeServices, plain, requests_of

TEXT = (
    "María come una manzana en la cocina. El profesor lee el periódico por la tarde. "
    "Mis amigos compran pan y queso en el mercado."
)


async def test_a_text_gets_a_summary(chat: Chat) -> None:
    reply = await chat.command("resumir", TEXT)
    assert len(reply.parts) == 1
    assert requests_of(chat.services, "summarize") == 1


async def test_a_long_text_is_summarised_too(chat: Chat) -> None:
    reply = await chat.command("resumir", " ".join([TEXT] * 40))
    assert reply.parts
    assert requests_of(chat.services, "summarize") == 1


async def test_the_replied_message_or_document_is_summarised(chat: Chat) -> None:
    assert (await chat.command("resumir", reply_text=TEXT)).parts
    assert (await chat.command("resumir", document_text=TEXT)).parts
    assert requests_of(chat.services, "summarize") == 2


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("resumir")).startswith("Uso: /resumir")


async def test_a_text_over_the_limit_gets_the_limit_in_spanish(make_services: MakeServices) -> None:
    services = await make_services(max_input_chars=50)
    reply = await Chat(services).command("resumir", TEXT)
    assert reply.parts == [texts.ERROR_TOO_LONG.format(length=len(TEXT), limit=50)]


def test_an_empty_summary_still_gets_a_sensible_reply() -> None:
    reply = summary_reply(Summary(""))
    assert reply.parts == [texts.SUMMARY_EMPTY]


def test_summary_is_escaped_and_a_cut_is_noted() -> None:
    reply = summary_reply(Summary("<i>a & b</i>", truncated=True))
    assert "&lt;i&gt;a &amp; b&lt;/i&gt;" in reply.parts[0]
    assert texts.SUMMARY_TRUNCATED in reply.parts[0]
