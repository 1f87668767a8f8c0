"""Drive a real PTB Application against the local Bot API, so the e2e harness itself is trusted."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.e2e.botapi_server import BotApiServer
from tests.e2e.telegram_chats import ChatSpec, UserSpec, group_chat, private_chat

ANA = UserSpec(id=1001, first_name="Ana", username="ana_r")
LUIS = UserSpec(id=1002, first_name="Luis")
ANA_CHAT = private_chat(ANA)
GROUP = group_chat(-1001234567890, "Tertulia")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the command arguments, quoting the command."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        " ".join(context.args or []) or "(vacío)", do_quote=True
    )


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show an inline keyboard, so a callback query has something to press."""
    assert update.effective_message is not None
    await update.effective_chat.send_action("typing")  # type: ignore[union-attr]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Sí", callback_data="yes"),
                InlineKeyboardButton("No", callback_data="no"),
            ]
        ]
    )
    await update.effective_message.reply_text(
        "<b>¿Seguimos?</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button, try to answer it twice, and say what was chosen in a new message."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    try:
        await query.answer()
        second = "answered twice"
    except BadRequest as exc:
        second = str(exc)
    await context.bot.send_message(query.message.chat.id, f"Elegiste: {query.data}; {second}")


async def document_length(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the document through getFile and reply with its size."""
    message = update.effective_message
    assert message is not None and message.document is not None
    data = await (await context.bot.get_file(message.document.file_id)).download_as_bytearray()
    await message.reply_text(f"{len(data)} bytes; caption={message.caption!r}")


async def replied(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say which message the user replied to."""
    message = update.effective_message
    assert message is not None and message.reply_to_message is not None
    await message.reply_text(f"respondiste a: {message.reply_to_message.text}")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    """A started local Bot API, stopped after the test."""
    async with BotApiServer() as srv:
        yield srv


def build_app(server: BotApiServer) -> Application:
    """The real PTB Application, pointed at the local server."""
    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("echo", echo))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.Document.ALL, document_length))
    app.add_handler(MessageHandler(filters.TEXT & filters.REPLY & ~filters.COMMAND, replied))
    return app


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    """Initialize, start and long-poll `app`; stop it in the right order on exit.

    poll_interval=0 with long polling: a pending getUpdates returns the moment a test queues
    an update, so round trips take milliseconds.
    """
    await app.initialize()
    try:
        await app.start()
        try:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
            try:
                yield app
            finally:
                await app.updater.stop()
        finally:
            await app.stop()
    finally:
        await app.shutdown()


@pytest.fixture
async def app(server: BotApiServer) -> AsyncIterator[Application]:
    """A polling Application for the test, shut down cleanly afterwards."""
    async with running(build_app(server)) as application:
        yield application


async def test_command_round_trip_private(server: BotApiServer, app: Application) -> None:
    """A /command in a private chat reaches CommandHandler and the reply comes back fast."""
    assert app.bot.username == "TertuliaTestBot"
    update = server.user_sends(ANA_CHAT, ANA, "/echo hola mundo")
    started = time.perf_counter()
    [reply] = await server.wait_for_messages(ANA.id, 1)
    elapsed = time.perf_counter() - started
    assert reply["text"] == "hola mundo"
    assert reply["reply_to"] == update["message"]["message_id"]
    assert reply["chat_id"] == ANA.id
    assert elapsed < 2.0, f"round trip took {elapsed:.3f}s"

    # Second round trip after mark(): only the new message is returned.
    server.mark(ANA.id)
    server.user_sends(ANA_CHAT, ANA, "/echo otra vez")
    [second] = await server.wait_for_messages(ANA.id, 1)
    assert second["text"] == "otra vez"
    assert [m["text"] for m in server.messages(ANA.id)] == ["hola mundo", "otra vez"]
    assert server.unknown_methods == []


async def test_round_trip_latency(server: BotApiServer, app: Application) -> None:
    """Ten round trips; long polling with poll_interval=0 keeps each well under a second."""
    timings = []
    for i in range(10):
        server.mark(ANA.id)
        started = time.perf_counter()
        server.user_sends(ANA_CHAT, ANA, f"/echo {i}")
        await server.wait_for_messages(ANA.id, 1)
        timings.append(time.perf_counter() - started)
    assert max(timings) < 2.0, timings


async def test_group_command_with_bot_suffix(server: BotApiServer, app: Application) -> None:
    """/cmd@TertuliaTestBot works in a group; a command for another bot is ignored."""
    update = server.user_sends(GROUP, LUIS, "/echo@TertuliaTestBot buenas")
    message = update["message"]
    assert message["chat"] == {"id": GROUP.id, "type": "supergroup", "title": "Tertulia"}
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    [reply] = await server.wait_for_messages(GROUP.id, 1)
    assert reply["text"] == "buenas"

    server.mark(GROUP.id)
    server.user_sends(GROUP, LUIS, "/echo@OtroBot nada")
    await server.expect_silence(GROUP.id, 0.3)


def test_chat_helpers_follow_telegram_ids() -> None:
    """Private chats share the user's id; groups have negative ids."""
    assert private_chat(ANA).id == ANA.id
    assert group_chat(-42, "x", "group").type == "group"
    with pytest.raises(ValueError):
        group_chat(42)
    with pytest.raises(ValueError):
        ChatSpec(id=-5, type="private")


async def test_button_press_is_answered_once(server: BotApiServer, app: Application) -> None:
    """Pressing an inline button reaches CallbackQueryHandler; a second answer is refused."""
    server.user_sends(ANA_CHAT, ANA, "/menu")
    [shown] = await server.wait_for_messages(ANA.id, 1)
    assert server.chat_actions(ANA.id) == ["typing"]
    assert shown["plain_text"] == "¿Seguimos?"
    assert shown["entities"] == [{"type": "bold", "offset": 0, "length": 10}]
    buttons = shown["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["yes", "no"]

    server.mark(ANA.id)
    server.user_presses(ANA_CHAT, ANA, shown["message_id"], "yes")
    [chosen] = await server.wait_for_messages(ANA.id, 1)
    assert chosen["text"].startswith("Elegiste: yes; ")
    assert "query is too old" in chosen["text"].lower()
    assert len(server.calls("answerCallbackQuery")) == 2

    with pytest.raises(ValueError, match="no button"):
        server.user_presses(ANA_CHAT, ANA, shown["message_id"], "maybe")


async def test_document_download(server: BotApiServer, app: Application) -> None:
    """A user document is served by getFile and the file URL; the bot can upload one back."""
    payload = bytes(range(256)) * 40
    server.user_sends(
        ANA_CHAT, ANA, "mi archivo", document=("notas.bin", payload, "application/octet-stream")
    )
    [reply] = await server.wait_for_messages(ANA.id, 1)
    assert reply["text"] == f"{len(payload)} bytes; caption='mi archivo'"
    assert server.calls("download")

    sent = await app.bot.send_document(ANA.id, b"contenido", filename="resumen.txt")
    assert sent.document is not None and sent.document.file_name == "resumen.txt"
    record = server.messages(ANA.id)[-1]
    assert record["document"]["filename"] == "resumen.txt"
    assert record["document"]["data"] == b"contenido"
    again = await (await app.bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(again) == b"contenido"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_document(ANA.id, b"x", filename="x.txt", caption="x" * 1025)


async def test_reply_to_embeds_message(server: BotApiServer, app: Application) -> None:
    """reply_to embeds the earlier message (here one the bot sent) as reply_to_message."""
    server.user_sends(ANA_CHAT, ANA, "/echo primero")
    [first] = await server.wait_for_messages(ANA.id, 1)
    server.mark(ANA.id)
    update = server.user_sends(ANA_CHAT, ANA, "¿y esto?", reply_to=first["message_id"])
    assert update["message"]["reply_to_message"]["from"]["is_bot"] is True
    [reply] = await server.wait_for_messages(ANA.id, 1)
    assert reply["text"] == "respondiste a: primero"
    with pytest.raises(KeyError):
        server.user_sends(ANA_CHAT, ANA, "x", reply_to=999)


async def test_reply_to_a_missing_message(server: BotApiServer, app: Application) -> None:
    """Quoting a message that is gone fails unless allow_sending_without_reply is set."""
    gone = ReplyParameters(message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await app.bot.send_message(ANA.id, "hola", reply_parameters=gone)
    lenient = ReplyParameters(message_id=999, allow_sending_without_reply=True)
    sent = await app.bot.send_message(ANA.id, "hola", reply_parameters=lenient)
    assert sent.reply_to_message is None
    assert server.messages(ANA.id)[-1]["reply_to"] is None


async def test_html_validation(server: BotApiServer, app: Application) -> None:
    """Invalid HTML, over-long and empty texts are rejected with Telegram's errors."""
    bot = app.bot
    with pytest.raises(
        BadRequest, match=r"(?i)can't parse entities: unsupported start tag \"foo\""
    ):
        await bot.send_message(ANA.id, "<foo>hola</foo>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ANA.id, "2 < 3", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ANA.id, "<b>sin cerrar", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unmatched end tag"):
        await bot.send_message(ANA.id, "<b><i>x</b></i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ANA.id, "a&nbsp;b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ANA.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ANA.id, "<b> </b>", parse_mode="HTML")
    assert server.messages(ANA.id) == []

    # 4096 visible characters are fine even when the markup makes the text longer.
    long_ok = "<b>" + "x" * 4000 + "</b>" + "&lt;" * 96
    sent = await bot.send_message(ANA.id, long_ok, parse_mode="HTML")
    assert len(sent.text) == 4096
    ok = (
        '<b>negrita <i>y cursiva</i></b> <a href="https://e.org/?a=1&amp;b=2">enlace</a>'
        " &quot;x&quot; &#191;"
    )
    sent = await bot.send_message(ANA.id, ok, parse_mode="HTML")
    assert sent.text == 'negrita y cursiva enlace "x" ¿'
    assert server.messages(ANA.id)[-1]["text"] == ok
    assert len(server.errors) == 7


async def test_keyboards_are_validated(server: BotApiServer, app: Application) -> None:
    """callback_data over 64 bytes is refused, as Telegram refuses it."""
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await app.bot.send_message(ANA.id, "hola", reply_markup=too_long)
    fits = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="ñ" * 32)]])
    sent = await app.bot.send_message(ANA.id, "hola", reply_markup=fits)
    assert sent.reply_markup == fits


async def test_chat_actions_are_validated(server: BotApiServer, app: Application) -> None:
    """Only Telegram's chat actions are accepted, and each is recorded per chat."""
    assert await app.bot.send_chat_action(ANA.id, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await app.bot.send_chat_action(ANA.id, "dancing")
    assert server.chat_actions(ANA.id) == ["typing"]


async def test_flood_control_raises_retry_after(server: BotApiServer, app: Application) -> None:
    """An injected 429 reaches PTB as RetryAfter; the next send goes through."""
    server.flood(ANA.id, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(ANA.id, "hola")
        assert "Retry in 7" in str(caught.value)
    sent = await app.bot.send_message(ANA.id, "hola")
    assert sent.text == "hola"
    assert [e.error_code for e in server.errors] == [429, 429]


async def test_edits_and_deletions_are_validated(server: BotApiServer, app: Application) -> None:
    """editMessageText and deleteMessage work on the bot's messages, refused as Telegram does."""
    sent = await app.bot.send_message(ANA.id, "⏳ <b>Preparando</b>…", parse_mode=ParseMode.HTML)
    edited = await app.bot.edit_message_text(
        "⏳ <b>Preparando</b>… 40 %", ANA.id, sent.message_id, parse_mode=ParseMode.HTML
    )
    assert isinstance(edited, Message) and edited.text == "⏳ Preparando… 40 %"
    assert edited.message_id == sent.message_id and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_text(
            "⏳ <b>Preparando</b>… 40 %", ANA.id, sent.message_id, parse_mode=ParseMode.HTML
        )
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.edit_message_text("<b>roto", ANA.id, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await app.bot.edit_message_text("x", ANA.id, 999)
    server.user_sends(ANA_CHAT, ANA, "mío")
    users_message = sent.message_id + 1
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await app.bot.edit_message_text("x", ANA.id, users_message)

    assert await app.bot.delete_message(ANA.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await app.bot.delete_message(ANA.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await app.bot.edit_message_text("tarde", ANA.id, sent.message_id)
    [record] = server.messages(ANA.id)
    assert record["deleted"] and record["edits"] == ["⏳ <b>Preparando</b>…"]
    assert record["plain_text"] == "⏳ Preparando… 40 %"


async def test_unreachable_api(server: BotApiServer) -> None:
    """While unreachable, calls and downloads get 502 (NetworkError in PTB); then they work."""
    async with build_app(server) as app:  # no polling: an outage would make it back off
        server.user_sends(ANA_CHAT, ANA, "x", document=("a.txt", b"abc", "text/plain"))
        [update] = await app.bot.get_updates()
        assert update.message is not None and update.message.document is not None
        file = await app.bot.get_file(update.message.document.file_id)
        server.set_unreachable(True)
        with pytest.raises(NetworkError):
            await app.bot.send_message(ANA.id, "hola")
        with pytest.raises(NetworkError):
            await file.download_as_bytearray()
        server.set_unreachable(False)
        await app.bot.send_message(ANA.id, "de vuelta")
        assert bytes(await file.download_as_bytearray()) == b"abc"
    assert [m["text"] for m in server.messages(ANA.id)] == ["de vuelta"]


async def test_unknown_methods_and_commands(server: BotApiServer, app: Application) -> None:
    """A method the bot does not use answers 404 and is recorded; setMyCommands is validated."""
    with pytest.raises(TelegramError):
        await app.bot.do_api_request("sendPigeon", api_kwargs={"chat_id": ANA.id})
    sent = await app.bot.send_message(ANA.id, "hola")
    with pytest.raises(TelegramError):
        await app.bot.pin_chat_message(ANA.id, sent.message_id)
    assert server.unknown_methods == ["sendPigeon", "pinChatMessage"]

    await app.bot.set_my_commands([("echo", "Repite"), ("menu", "Menú")])
    assert server.commands == [
        {"command": "echo", "description": "Repite"},
        {"command": "menu", "description": "Menú"},
    ]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await app.bot.set_my_commands([("Echo", "Mayúsculas no")])
    assert [c["command"] for c in server.commands] == ["echo", "menu"]


async def test_get_updates_offset_limit_and_long_poll(server: BotApiServer) -> None:
    """getUpdates honours offset, limit and the long-poll timeout (without an Application)."""
    bot = build_app(server).bot
    async with bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
        assert loop.time() - started >= 0.29

        for i in range(3):
            server.user_sends(ANA_CHAT, ANA, f"m{i}")
        first = await bot.get_updates(limit=2)
        assert [u.message.text for u in first] == ["m0", "m1"]  # type: ignore[union-attr]
        rest = await bot.get_updates(offset=first[-1].update_id + 1)
        assert [u.message.text for u in rest] == ["m2"]  # type: ignore[union-attr]
        again = await bot.get_updates()
        assert [u.message.text for u in again] == ["m2"]  # type: ignore[union-attr]

        # A waiting long poll returns as soon as an update arrives.
        poll = asyncio.create_task(bot.get_updates(offset=rest[-1].update_id + 1, timeout=5))
        await asyncio.sleep(0.05)
        started = loop.time()
        server.user_sends(ANA_CHAT, ANA, "m3")
        got = await poll
        assert [u.message.text for u in got] == ["m3"]  # type: ignore[union-attr]
        assert loop.time() - started < 0.5


async def test_stop_wakes_pending_long_poll() -> None:
    """Stopping the server does not wait for a pending long poll to time out."""
    srv = BotApiServer()
    await srv.start()
    bot = build_app(srv).bot
    await bot.initialize()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await srv.wait_until(lambda: bool(srv.calls("getUpdates")), timeout=5)
    started = time.perf_counter()
    await srv.stop()
    assert await poll == ()
    await bot.shutdown()
    assert time.perf_counter() - started < 2


async def test_form_bodies_and_auth(server: BotApiServer) -> None:
    """Raw form posts get Telegram's answers; bad JSON is 400, a wrong token 401."""
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as session:
        url = f"{server.base_url}{server.token}/sendMessage"
        form = {"chat_id": str(ANA.id), "text": "form", "reply_markup": json.dumps(markup)}
        async with session.post(url, data=form) as resp:
            body = await resp.json()
        assert body["ok"] is True
        assert body["result"]["reply_markup"] == markup
        async with session.post(
            url, data={"chat_id": "1", "text": "x", "reply_markup": "{"}
        ) as resp:
            assert resp.status == 400
        async with session.post(f"{server.base_url}0:bad/getMe") as resp:
            assert resp.status == 401
        async with session.post(f"{server.base_url}{server.token}/fooBar") as resp:
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    assert [m["text"] for m in server.messages(ANA.id)] == ["form"]
    assert server.unknown_methods == ["fooBar"]


async def test_webhook_conflicts_with_polling(server: BotApiServer) -> None:
    """While a webhook is set getUpdates conflicts, like Telegram; deleteWebhook ends it."""
    async with build_app(server).bot as bot:
        assert await bot.set_webhook("https://example.org/hook")
        assert server.webhook_url == "https://example.org/hook"
        with pytest.raises(Conflict):
            await bot.get_updates()
        server.user_sends(ANA_CHAT, ANA, "perdido")
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()
        server.user_sends(ANA_CHAT, ANA, "nuevo")
        [update] = await bot.get_updates()
        assert update.message is not None and update.message.text == "nuevo"
