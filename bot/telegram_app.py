"""The Telegram adapter: updates in, Requests to handlers, Replies rendered back as messages."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from telegram import (
    BotCommand,
    Message,
    Update,
    User,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import documents, texts
from bot.progress import reporting_to
from bot.request import ChatKind, Reply, Request, parse_command
from bot.services import Services
from bot.telegram_inline import inline_query_handler
from bot.telegram_members import TelegramMembers
from bot.telegram_progress import ProgressMessage
from bot.telegram_send import send_reply
from bot.telegram_voice import AUDIO_MESSAGES, audio_request
from handlers import dispatch
from handlers.commands import menu

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.0
# Group chatter nobody addressed to the bot shows "typing" only once an answer (an automatic
# translation) takes this long: most chatter gets no answer, and must not look as if it would.
CHATTER_TYPING_AFTER_S = 1.0
WEBHOOK_PATH = "telegram"


class ChatLocks:
    """One lock per chat: a chat's messages run in order, different chats run concurrently."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id]
                del self._locks[chat_id]


class TelegramBot:
    """Wires python-telegram-bot to the handlers; the only code that knows Telegram."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        if not settings.token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.locks = ChatLocks()
        self.in_flight: set[asyncio.Task[Any]] = set()
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.token)
            .base_url(settings.telegram_base_url)
            .base_file_url(settings.telegram_base_file_url)
            .concurrent_updates(True)
            .build()
        )
        app = self.application
        services.members = TelegramMembers(app.bot)
        app.add_handler(
            MessageHandler(
                filters.COMMAND | filters.Document.ALL | AUDIO_MESSAGES, self._on_message
            )
        )
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self._on_message))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(inline_query_handler(services))  # @Bot texto in any chat
        app.add_error_handler(self._on_error)

    # Incoming
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None or update.effective_user is None:
            return
        request = await self._request_from_message(message, update)
        if request is None:
            return
        await self._serve(request, message)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not query.data or not isinstance(query.message, Message):
            return
        with contextlib.suppress(NetworkError, BadRequest):
            await query.answer()
        chat = query.message.chat
        request = Request(
            chat_id=chat.id,
            user_id=query.from_user.id,
            chat_kind=_chat_kind(chat.type),
            action=query.data,
        )
        await self._serve(request, query.message)

    async def _request_from_message(self, message: Message, update: Update) -> Request | None:
        """Turn a message into a Request; None when it is not for us (another bot's command)."""
        chat, user = message.chat, update.effective_user
        assert user is not None
        text = message.text or message.caption or ""
        command, argument = parse_command(text, self.services.bot_username)
        if command == "":
            return None  # a command addressed to another bot
        replied = message.reply_to_message
        reply_text = None
        replies_to_bot = False
        if replied is not None:
            reply_text = replied.text or replied.caption or None
            replies_to_bot = bool(
                replied.from_user and replied.from_user.id == message.get_bot().id
            )
        document_text, document_error = None, None
        if message.document is not None:
            document_text, document_error = await self._read_document(message)
        command, audio = await audio_request(
            message, command, _chat_kind(chat.type), self.services.settings.max_audio_bytes
        )
        if command is None and not text and document_text is None and document_error is None:
            return None
        return Request(
            chat_id=chat.id,
            user_id=user.id,
            chat_kind=_chat_kind(chat.type),
            command=command,
            text=argument if command is not None else text,
            reply_text=reply_text,
            document_text=document_text,
            document_error=document_error,
            audio=audio,
            replies_to_bot=replies_to_bot,
            author=_author(message, user),
            # An anonymous administrator writes as GroupAnonymousBot, a bot user with a sender_chat.
            from_bot=(user.is_bot and message.sender_chat is None) or message.via_bot is not None,
        )

    async def _read_document(self, message: Message) -> tuple[str | None, str | None]:
        """A document's text (bot.documents), or an error code the handlers word in Spanish."""
        document = message.document
        assert document is not None
        name, mime = document.file_name or "", document.mime_type or ""
        if documents.kind_of(name, mime) is None:
            return None, "not_text"
        limit = self.services.settings.max_document_bytes
        if document.file_size and document.file_size > limit:
            return None, "too_big"
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
        read = await documents.read_document(data, name, mime, limit)
        return read.text, read.problem

    # Serving
    async def _serve(self, request: Request, message: Message) -> None:
        """Answer one request; if a stop cancels it, apologise instead of going silent."""
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        try:
            await self._answer(request, message)
        except asyncio.CancelledError:
            task.uncancel()
            try:
                await self.send_reply(request, Reply.text(texts.SHUTTING_DOWN), message)
            except Exception as exc:
                log.warning("could not apologise in chat %s: %s", request.chat_id, exc)
        finally:
            self.in_flight.discard(task)

    async def _answer(self, request: Request, message: Message) -> None:
        """In order within its chat, with a typing indicator and any progress meanwhile.

        Progress (a model's first download) is one message that the answer replaces; an
        answer that grew as it was written (bot/progress.py) gets its final text edited in.
        """
        started = time.perf_counter()
        async with self.locks.hold(request.chat_id):
            delay = 0.0 if _spoken_to(request) else CHATTER_TYPING_AFTER_S
            typing = asyncio.create_task(self._keep_typing(request.chat_id, delay))
            quote = None if request.is_private else message.message_id
            progress = ProgressMessage(self.application.bot, request.chat_id, reply_to=quote)
            try:
                try:
                    with reporting_to(progress):
                        reply = await dispatch(request, self.services)
                finally:
                    typing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await typing
                    await progress.stop()
                await self.send_reply(request, reply, message, replacing=progress.take())
            finally:
                await progress.delete()
        log.debug(
            "served %s in chat %s in %.3f s",
            request.command or request.action or "text",
            request.chat_id,
            time.perf_counter() - started,
        )

    async def _keep_typing(self, chat_id: int, delay: float = 0.0) -> None:
        """'escribiendo...' lasts ~5 s on phones, so renew it every 4 s (after `delay`)."""
        bot = self.application.bot
        await asyncio.sleep(delay)
        while True:
            with contextlib.suppress(NetworkError, BadRequest, Forbidden, RetryAfter):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_S)

    async def send_reply(
        self, request: Request, reply: Reply, message: Message | None, replacing: int | None = None
    ) -> None:
        """Render a Reply as Telegram messages (see bot/telegram_send.py)."""
        await send_reply(self.application.bot, request, reply, message, replacing)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling an update: %s", context.error, exc_info=context.error)

    # Running
    async def _start_application(self) -> None:
        """Learn our @username and publish the menu before the first update is fetched.

        PTB runs its `post_init` hook only inside `run_polling`/`run_webhook`; we start the
        application ourselves, so this step is ours to run.
        """
        app = self.application
        await app.initialize()  # calls getMe, so the bot knows its username from here on
        self.services.bot_username = app.bot.username
        await self._publish_menu()
        await app.start()

    async def _publish_menu(self) -> None:
        """The command menu phones show (setMyCommands); a failure leaves the old menu."""
        commands = [BotCommand(name, description) for name, description in menu()]
        try:
            await self.application.bot.set_my_commands(commands)
        except (NetworkError, BadRequest) as exc:
            log.warning("could not set the command menu: %s", exc)

    async def start(self, poll_interval: float = 0.0, poll_timeout: int = 10) -> None:
        """Start polling (used by tests and the `polling` command)."""
        await self._start_application()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            poll_interval=poll_interval,
            timeout=dt.timedelta(seconds=poll_timeout),
            drop_pending_updates=False,
        )

    async def start_handling(self) -> None:
        """Start without fetching updates: a worker feeds them to `application.process_update`
        from the update stream (bot/worker.py)."""
        await self._start_application()

    async def start_webhook(self) -> None:
        """Start the webhook server (WEBHOOK_*); PTB refuses requests without the secret."""
        settings = self.services.settings
        app = self.application
        await self._start_application()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=WEBHOOK_PATH,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value()
            if settings.webhook_secret
            else None,
            drop_pending_updates=False,
        )

    async def stop(self) -> None:
        """Stop fetching, finish the updates in progress, close the connection."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


def _spoken_to(request: Request) -> bool:
    """A command, a button, a private message or a reply to the bot: an answer is coming."""
    return (
        request.is_private
        or request.replies_to_bot
        or request.command is not None
        or request.action is not None
    )


def _author(message: Message, user: User) -> str:
    """The name a group sees: the user's, or the group's or channel's it writes as."""
    if message.sender_chat is not None:
        return message.sender_chat.title or message.sender_chat.full_name or user.full_name
    return user.full_name


def _chat_kind(kind: str) -> ChatKind:
    return kind if kind in ("private", "group", "supergroup", "channel") else "private"  # type: ignore[return-value]
