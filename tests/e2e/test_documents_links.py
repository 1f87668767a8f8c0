"""Documents and links over the local Bot API server, as a phone sends them."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bot import links, texts
from bot.documents import read_document
from bot.formatting import html_to_plain
from handlers.arguments import char_count, word_count
from tests.document_makers import (
    DOCX_MIME,
    HTML_MIME,
    PDF_MIME,
    docx_with_text,
    docx_zip_bomb,
    encrypted_pdf,
    html_document,
    pdf_with_text,
    scanned_pdf,
)
from tests.e2e.conftest import ANA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec
from tests.page_server import NEWS_PARAGRAPHS, NEWS_TITLE, page_server

PARAGRAPHS = (
    "Miguel de Cervantes nació en Alcalá de Henares en 1547.",
    "Escribió el Quijote, que se publicó en Madrid en dos partes.",
    "Murió en Madrid en 1616, pocos días antes que Shakespeare.",
)
DOCUMENTS = {
    "pdf": ("cervantes.pdf", pdf_with_text(*PARAGRAPHS), PDF_MIME),
    "docx": ("cervantes.docx", docx_with_text(*PARAGRAPHS), DOCX_MIME),
    "html": ("cervantes.html", html_document("Cervantes", *PARAGRAPHS), HTML_MIME),
}
SUMMARY_HEADS = (html_to_plain(texts.SUMMARY_TITLE), html_to_plain(texts.SUMMARY_EMPTY))
ANSWER_HEAD = html_to_plain(texts.ANSWER.split("<b>")[0])


def plain(text: str) -> str:
    return html_to_plain(text)


def answer_of(reply: dict[str, Any]) -> str:
    """The answer a /pregunta reply gives: its first line after the speech balloon."""
    first_line = reply["plain_text"].split("\n")[0]
    assert first_line.startswith(ANSWER_HEAD), reply["plain_text"]
    return first_line.removeprefix(ANSWER_HEAD).strip()


async def titled_by(tg: TelegramHarness, message: dict[str, Any], title_line: str) -> str:
    """The message's text once it is headed by the page's title (a long reply may grow first)."""
    await tg.server.wait_until(lambda: message["plain_text"].startswith(title_line + "\n"))
    text: str = message["plain_text"]
    return text


def squeezed(text: str) -> str:
    return " ".join(text.split())


async def ask_about(tg: TelegramHarness, chat: ChatSpec, reading_text: str) -> None:
    """A /pregunta answered from the reading text just kept: a span of that text."""
    [reply] = await tg.say(chat, ANA, "/pregunta ¿Dónde nació Cervantes?")
    assert squeezed(answer_of(reply)) in squeezed(reading_text)


@pytest.mark.parametrize("kind", list(DOCUMENTS))
async def test_a_document_is_summarised_kept_and_asked_about(
    kind: str, tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    name, data, mime = DOCUMENTS[kind]
    expected = (await read_document(data, name, mime, len(data))).text
    assert expected is not None and "Alcalá de Henares" in expected
    [summary] = await tg.say(ana_chat, ANA, "/resumir", document=(name, data, mime))
    assert summary["plain_text"].startswith(SUMMARY_HEADS), summary["plain_text"]
    [kept] = await tg.say(ana_chat, ANA, "/contexto", document=(name, data, mime))
    counts = {"chars": char_count(expected), "words": word_count(expected)}
    assert kept["plain_text"] == plain(texts.CONTEXT_SET.format(**counts))
    await ask_about(tg, ana_chat, expected)


async def test_unreadable_documents_get_their_own_message(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    cases = [
        (("secreto.pdf", encrypted_pdf(), PDF_MIME), texts.ERROR_DOCUMENT_ENCRYPTED),
        (("escaneado.pdf", scanned_pdf(), PDF_MIME), texts.ERROR_DOCUMENT_SCANNED),
        (("bomba.docx", docx_zip_bomb(), DOCX_MIME), texts.ERROR_DOCUMENT_BOMB),
        (("ruido.pdf", os.urandom(3000), PDF_MIME), texts.ERROR_DOCUMENT_BROKEN),
        (("ruido.docx", os.urandom(3000), DOCX_MIME), texts.ERROR_DOCUMENT_BROKEN),
        (("hoja.xlsx", b"PK\x03\x04", "application/octet-stream"), texts.ERROR_DOCUMENT_KIND),
    ]
    for document, message in cases:
        for command in ("/resumir", "/contexto"):
            [reply] = await tg.say(ana_chat, ANA, command, document=document)
            assert reply["plain_text"] == plain(message), (document[0], command)
    # Sent with no command in a private chat, a bad file is also answered, and nothing broke.
    [plain_send] = await tg.say(ana_chat, ANA, "", document=cases[3][0])
    assert plain_send["plain_text"] == plain(texts.ERROR_DOCUMENT_BROKEN)
    [still] = await tg.say(ana_chat, ANA, "/resumir", document=DOCUMENTS["pdf"])
    assert still["plain_text"].startswith(SUMMARY_HEADS)


async def test_links_to_our_network_are_refused(
    tg: TelegramHarness, ana_chat: ChatSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with page_server() as pages:
        public_name = "noticias.example"

        async def resolve(host: str, port: int) -> list[str]:
            return (
                ["93.184.216.34"] if host == public_name else await links.system_resolve(host, port)
            )

        def reach(address: str, port: int) -> tuple[str, int]:
            return ("127.0.0.1", pages.port) if address == "93.184.216.34" else (address, port)

        monkeypatch.setattr(links, "network", links.Network(resolve=resolve, reach=reach))
        refused = {
            pages.url("/noticia"): "127.0.0.1",
            "http://10.0.0.1/": "10.0.0.1",
            "http://169.254.169.254/latest/meta-data/": "169.254.169.254",
            f"http://[::1]:{pages.port}/noticia": "::1",
            f"http://{public_name}/redirige?a={pages.url('/noticia')}": "127.0.0.1",
        }
        for url, host in refused.items():
            [reply] = await tg.say(ana_chat, ANA, f"/resumir {url}")
            assert reply["plain_text"] == plain(texts.ERROR_LINK_ADDRESS.format(host=host)), url
        [scheme] = await tg.say(ana_chat, ANA, "/contexto file:///etc/passwd")
        assert scheme["plain_text"] == plain(texts.ERROR_LINK_SCHEME)
        assert pages.hosts_seen == []  # the page itself was never fetched


async def test_a_link_is_read_with_its_title_by_commands_and_buttons(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    await tg.stop()
    await tg.start(links_allow_private=True)  # LINKS_ALLOW_PRIVATE=1: the page is on 127.0.0.1
    title_line = plain(texts.LINK_TITLE.format(title=NEWS_TITLE))
    async with page_server() as pages:
        url = pages.url("/noticia")
        [summary] = await tg.say(ana_chat, ANA, f"/resumir {url}")
        second_line = (await titled_by(tg, summary, title_line)).split("\n")[1]
        assert second_line in SUMMARY_HEADS
        [translation] = await tg.say(ana_chat, ANA, f"/traducir {url}")
        await titled_by(tg, translation, title_line)
        [kept] = await tg.say(ana_chat, ANA, f"/contexto {url}")
        assert kept["plain_text"].startswith(title_line + "\n📖")
        await ask_about(tg, ana_chat, "\n".join((NEWS_TITLE, *NEWS_PARAGRAPHS)))
        # A pasted link gets the usual buttons; pressing one reads the page.
        [offer] = await tg.say(ana_chat, ANA, url)
        assert offer["plain_text"] == plain(texts.CHOOSE_ACTION)
        buttons = {b["text"]: b for row in offer["reply_markup"]["inline_keyboard"] for b in row}
        for command in ("resumir", "sentimiento"):
            button = buttons[texts.COMMAND_TEXTS[command].button]
            [pressed] = await tg.press(ana_chat, ANA, offer["message_id"], button["callback_data"])
            await titled_by(tg, pressed, title_line)
        [missing] = await tg.say(ana_chat, ANA, f"/resumir {pages.url('/falta')}")
        assert missing["plain_text"] == plain(texts.ERROR_LINK_HTTP.format(status=404))
        [image] = await tg.say(ana_chat, ANA, f"/resumir {pages.url('/imagen')}")
        assert image["plain_text"] == plain(texts.ERROR_LINK_KIND.format(kind="image/png"))
