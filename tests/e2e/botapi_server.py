"""A local Telegram Bot API server, so the real PTB Application can be tested over real HTTP.

Point PTB at it with `ApplicationBuilder().token(server.token).base_url(server.base_url)
.base_file_url(server.base_file_url)`, then act as users (`user_sends`, `user_presses`) and
read what the bot did (`wait_for_messages`, `chat_actions`, `commands`).

It answers only the methods the bot calls, with Telegram's validation: getMe, getUpdates,
setWebhook, deleteWebhook, setMyCommands, sendMessage, editMessageText, deleteMessage,
sendDocument, sendChatAction, answerCallbackQuery, answerInlineQuery, getChatMember, getFile
and file downloads. Any other method answers 404 and is listed in `unknown_methods`, so a bot
that starts calling something new fails loudly here.
Everything runs in the test's event loop; no thread, no network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import web

from tests.e2e.botapi_rules import (
    CHAT_ACTIONS,
    QUERY_TOO_OLD,
    ApiError,
    check_commands,
    check_markup,
    command_entities,
    decode_params,
    render_text,
)
from tests.e2e.telegram_chats import ChatSpec, UserSpec

__all__ = ["BotApiServer", "LoggedRequest", "StoredFile"]

JSONDict = dict[str, Any]
MethodHandler = Callable[[JSONDict, dict[str, "StoredFile"]], Awaitable[Any]]

DEFAULT_TOKEN = "123456789:TEST-tertulia-fake-token"
DEFAULT_BOT_USERNAME = "TertuliaTestBot"
HOST = "127.0.0.1"
# answerInlineQuery: Telegram refuses an answer this long after the query, and over 50 results.
INLINE_ANSWER_WINDOW_S = 10.0
MAX_INLINE_RESULTS = 50


class LoggedRequest(NamedTuple):
    """One request as the server saw it: method name, decoded parameters, monotonic time."""

    method: str
    params: JSONDict
    time: float


@dataclass
class StoredFile:
    """A file known to the server, downloadable under `base_file_url` via getFile's file_path."""

    file_id: str
    file_unique_id: str
    filename: str
    data: bytes
    mime_type: str
    file_path: str

    def file_dict(self) -> JSONDict:
        """Render as the Bot API File object that getFile answers."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def document_dict(self) -> JSONDict:
        """Render as the Bot API Document object inside a Message."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class _ChatState:
    """Everything the server knows about one chat."""

    chat: ChatSpec
    next_message_id: int = 1
    wire: dict[int, JSONDict] = field(default_factory=dict)  # current Message objects
    bot_messages: list[JSONDict] = field(default_factory=list)  # records, in send order
    mark: int = 0
    actions: list[str] = field(default_factory=list)
    floods: list[tuple[int, frozenset[str]]] = field(default_factory=list)


class BotApiServer:
    """A Bot API on 127.0.0.1 that records what the bot does and lets tests act as users."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "Tertulia",
    ) -> None:
        """Configure; nothing listens until `start()`."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.port = 0
        self.base_url = ""
        self.base_file_url = ""

        self.request_log: list[LoggedRequest] = []
        self.errors: list[ApiError] = []
        self.unknown_methods: list[str] = []
        self.webhook_url = ""

        self._chats: dict[int, _ChatState] = {}
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(100_001)
        self._last_confirmed = 0
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._pending_callbacks: set[str] = set()
        self._pending_inline: dict[str, float] = {}  # inline query id -> when it was sent
        self.inline_answers: dict[str, JSONDict] = {}  # inline query id -> the bot's answer
        self._my_commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._administrators: dict[int, dict[int, UserSpec]] = {}  # chat -> user id -> user
        self.members_asked: list[tuple[int, int]] = []  # getChatMember's (chat, user), in order
        self._unreachable = False
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, MethodHandler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "setMyCommands": self._set_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "deleteMessage": self._delete_message,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "answerCallbackQuery": self._answer_callback_query,
                "getChatMember": self._get_chat_member,
                "answerInlineQuery": self._answer_inline_query,
                "getFile": self._get_file,
            }.items()
        }

    # Lifecycle

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a User object (the `from` of every message it sends)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    async def start(self) -> None:
        """Listen on a free port and fill in `base_url` / `base_file_url`."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0).start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self.base_url = f"http://{HOST}:{self.port}/bot"
        self.base_file_url = f"http://{HOST}:{self.port}/file/bot"

    async def stop(self) -> None:
        """Wake pending long polls so they answer at once, then close the listener."""
        if self._runner is None:
            return
        self._closing = True
        self._notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> BotApiServer:
        """Start on entering `async with`."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop on leaving `async with`."""
        await self.stop()

    # Fault injection

    def flood(
        self,
        chat_id: int,
        retry_after: int,
        times: int = 1,
        methods: Iterable[str] = ("sendMessage",),
    ) -> None:
        """Answer the next `times` sends to `chat_id` with 429 and `retry_after`, like Telegram."""
        state = self._chat_state(chat_id)
        state.floods.extend([(retry_after, frozenset(m.lower() for m in methods))] * times)

    def set_unreachable(self, unreachable: bool = True) -> None:
        """Simulate a down API: every request and download gets 502 Bad Gateway."""
        self._unreachable = unreachable

    # Acting as users

    def user_sends(
        self,
        chat: ChatSpec,
        user: UserSpec,
        text: str,
        reply_to: int | None = None,
        document: tuple[str, bytes, str] | None = None,
        voice: tuple[bytes, str, int] | None = None,
    ) -> JSONDict:
        """Queue a `message` update as if `user` wrote `text` in `chat`; return the update.

        A leading "/command[@bot]" gets its bot_command entity. `reply_to` is the id of any
        message stored in that chat. With `document=(filename, data, mime_type)` the text
        becomes the caption and the file is served by getFile. With `voice=(data, mime_type,
        duration)` the message is a voice note (text, if any, its caption) served the same way.
        """
        state = self._chat_state(chat.id)
        state.chat = chat
        message: JSONDict = {
            "message_id": self._next_message_id(state),
            "from": user.to_dict(),
            "date": int(time.time()),
            "chat": chat.to_dict(),
        }
        entities = command_entities(text)
        text_key, entities_key = "text", "entities"
        if document is not None:
            message["document"] = self._store_file(*document).document_dict()
            text_key, entities_key = "caption", "caption_entities"
        elif voice is not None:
            data, mime_type, duration = voice
            stored = self._store_file("voice.oga", data, mime_type)
            message["voice"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": duration,
                "mime_type": stored.mime_type,
                "file_size": len(data),
            }
            text_key, entities_key = "caption", "caption_entities"
        elif not text:
            raise ValueError("a text message needs text (or pass a document or a voice note)")
        if text:
            message[text_key] = text
        if entities:
            message[entities_key] = entities
        if reply_to is not None:
            message["reply_to_message"] = self._embedded(state, reply_to)
        state.wire[message["message_id"]] = message
        return self._queue_update("message", message)

    def user_presses(
        self, chat: ChatSpec, user: UserSpec, message_id: int, callback_data: str
    ) -> JSONDict:
        """Queue a `callback_query` update as if `user` pressed a button; return the update.

        The button must exist in the message's current inline keyboard, since a real user
        cannot press a button that is gone.
        """
        message = self._chat_state(chat.id).wire.get(message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat.id}")
        buttons = [
            button.get("callback_data")
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
        ]
        if callback_data not in buttons:
            raise ValueError(
                f"message {message_id} has no button with callback_data "
                f"{callback_data!r}; it has {buttons!r}"
            )
        query_id = f"{self.bot_id}{next(self._callback_ids):08d}"
        self._pending_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": json.loads(json.dumps(message)),
            "chat_instance": f"ci{abs(chat.id)}",
            "data": callback_data,
        }
        return self._queue_update("callback_query", query)

    def user_queries_inline(self, user: UserSpec, query: str, chat_type: str = "sender") -> str:
        """Queue an `inline_query` update as if `user` typed "@bot query"; return its id."""
        query_id = f"{self.bot_id}{next(self._callback_ids):08d}"
        self._pending_inline[query_id] = time.monotonic()
        payload = {
            "id": query_id,
            "from": user.to_dict(),
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        self._queue_update("inline_query", payload)
        return query_id

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 20.0) -> JSONDict:
        """The bot's answerInlineQuery for one query, once it came."""
        try:
            await self.wait_until(lambda: query_id in self.inline_answers, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no answer to inline query {query_id} within {timeout}s; API errors: "
                f"{self._error_summary()}"
            ) from None
        return self.inline_answers[query_id]

    def set_administrators(self, chat: ChatSpec, *users: UserSpec) -> None:
        """Who getChatMember names an administrator of `chat` from now on (the first: creator)."""
        self._administrators[chat.id] = {user.id: user for user in users}

    # Inspection

    def messages(self, chat_id: int) -> list[JSONDict]:
        """All messages the bot sent to `chat_id`, in order."""
        return list(self._chat_state(chat_id).bot_messages)

    def chat_actions(self, chat_id: int) -> list[str]:
        """The sendChatAction actions the bot sent to `chat_id`, in order."""
        return list(self._chat_state(chat_id).actions)

    @property
    def commands(self) -> list[JSONDict]:
        """The commands set with setMyCommands for the default scope and no language."""
        return list(self._my_commands.get(_commands_key(None, None), []))

    def calls(self, method: str) -> list[LoggedRequest]:
        """Logged requests for one method (case-insensitive)."""
        return [r for r in self.request_log if r.method.lower() == method.lower()]

    def mark(self, chat_id: int) -> None:
        """Start counting new bot messages in `chat_id` from now on."""
        state = self._chat_state(chat_id)
        state.mark = len(state.bot_messages)

    def since_mark(self, chat_id: int) -> list[JSONDict]:
        """Bot messages in `chat_id` after the last `mark` (or since start)."""
        state = self._chat_state(chat_id)
        return state.bot_messages[state.mark :]

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Return the bot messages since the last mark once there are at least `count`."""
        try:
            await self.wait_until(lambda: len(self.since_mark(chat_id)) >= count, timeout)
        except TimeoutError:
            got = [m.get("text") for m in self.since_mark(chat_id)]
            raise TimeoutError(
                f"wanted {count} bot message(s) in chat {chat_id} within {timeout}s, got "
                f"{len(got)}: {got!r}; API errors: {self._error_summary()}; unknown methods: "
                f"{self.unknown_methods!r}"
            ) from None
        return self.since_mark(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds, re-checking after every state change of the server."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def expect_silence(self, chat_id: int, duration: float = 0.3) -> None:
        """Assert the bot sends nothing new to `chat_id` (since the mark) for `duration`s."""
        with contextlib.suppress(TimeoutError):
            await self.wait_until(lambda: bool(self.since_mark(chat_id)), duration)
        extra = [m.get("text") for m in self.since_mark(chat_id)]
        if extra:
            raise AssertionError(f"expected no bot message in chat {chat_id}, got {extra!r}")

    # HTTP layer

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        """Decode one Bot API call, log it, apply fault injection and dispatch it."""
        method = request.match_info["method"]
        raw, files = await _read_params(request)
        try:
            params = decode_params(raw)
        except ApiError as exc:
            self.request_log.append(LoggedRequest(method, raw, time.monotonic()))
            return self._error_response(exc, method, raw)
        logged = dict(params)
        for name, stored in files.items():
            logged[name] = {"filename": stored.filename, "size": len(stored.data)}
        self.request_log.append(LoggedRequest(method, logged, time.monotonic()))
        self._notify()
        if self._unreachable:
            return self._error_response(ApiError(502, "Bad Gateway"), method, logged)
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"), method, logged)
        handler = self._methods.get(method.lower())
        if handler is None:
            self.unknown_methods.append(method)
            return self._error_response(
                ApiError(404, "Not Found: method not found"), method, logged
            )
        try:
            result = await handler(params, files)
        except ApiError as exc:
            return self._error_response(exc, method, logged)
        self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """Serve a file download, as api.telegram.org/file/bot<token>/<file_path> does."""
        path = request.match_info["path"]
        self.request_log.append(LoggedRequest("download", {"file_path": path}, time.monotonic()))
        if self._unreachable:
            return web.json_response(ApiError(502, "Bad Gateway").payload(), status=502)
        stored = self._files_by_path.get(path)
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _error_response(self, exc: ApiError, method: str, params: JSONDict) -> web.Response:
        """Record an error answer and render it with the matching HTTP status."""
        exc.method, exc.params = method, params
        self.errors.append(exc)
        self._notify()
        return web.json_response(exc.payload(), status=exc.error_code)

    def _error_summary(self) -> str:
        """Short text of recent API errors, for timeout messages."""
        return repr([f"{e.method}: {e.description}" for e in self.errors[-5:]])

    def _notify(self) -> None:
        """Wake everyone waiting for a state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    # State

    def _queue_update(self, kind: str, payload: JSONDict) -> JSONDict:
        """Queue an update for getUpdates and wake pending long polls."""
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self._notify()
        return update

    def _chat_state(self, chat_id: int) -> _ChatState:
        """The state of a chat, created on first use (sending to an unseen chat is allowed)."""
        state = self._chats.get(chat_id)
        if state is None:
            if chat_id > 0:
                chat = ChatSpec(id=chat_id, type="private", first_name=f"User {chat_id}")
            else:
                chat = ChatSpec(id=chat_id, type="supergroup", title=f"Chat {chat_id}")
            state = self._chats[chat_id] = _ChatState(chat=chat)
        return state

    def _resolve_chat(self, params: JSONDict) -> _ChatState:
        """The chat a method targets; the bot always addresses chats by numeric id."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        return self._chat_state(chat_id)

    @staticmethod
    def _next_message_id(state: _ChatState) -> int:
        """Message ids are per chat and shared by users and bot."""
        message_id = state.next_message_id
        state.next_message_id += 1
        return message_id

    def _embedded(self, state: _ChatState, message_id: int) -> JSONDict:
        """A stored message as it appears in reply_to_message (without its own reply)."""
        target = state.wire.get(message_id)
        if target is None:
            raise KeyError(f"no message {message_id} in chat {state.chat.id}")
        embedded = json.loads(json.dumps(target))
        embedded.pop("reply_to_message", None)
        return embedded

    def _store_file(self, filename: str, data: bytes, mime_type: str) -> StoredFile:
        """Keep a file so getFile and the download URL can serve it."""
        number = next(self._file_ids)
        safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:64] or "file"
        stored = StoredFile(
            file_id=f"BQACAgQAAxkBAAI{number:06d}fake",
            file_unique_id=f"AgAD{number:06d}",
            filename=filename,
            data=data,
            mime_type=mime_type or "application/octet-stream",
            file_path=f"documents/file_{number}_{safe_name}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _check_flood(self, state: _ChatState, method: str) -> None:
        """Answer 429 when a flood was injected for this chat and method."""
        for index, (retry_after, methods) in enumerate(state.floods):
            if method.lower() in methods:
                del state.floods[index]
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )

    @staticmethod
    def _reply_target(state: _ChatState, params: JSONDict) -> int | None:
        """Resolve reply_parameters to a message in the chat, as Telegram does."""
        reply = params.get("reply_parameters")
        if not reply:
            return None
        message_id = reply.get("message_id")
        if reply.get("chat_id") not in (None, state.chat.id):
            return None  # a reply into another chat is a quote we do not model
        if message_id in state.wire:
            return int(message_id)
        if reply.get("allow_sending_without_reply"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    # API methods

    async def _get_me(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """getMe: PTB's initialize() needs is_bot, id, first_name and username."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: JSONDict, files: dict[str, StoredFile]) -> Any:
        """getUpdates with offset confirmation, limit and long polling."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        if offset > 0:
            self._last_confirmed = max(self._last_confirmed, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            event = self._changed
            available = [u for u in self._updates if u["update_id"] >= self._last_confirmed]
            if available or loop.time() >= deadline or self._closing:
                return available[:limit]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), deadline - loop.time())

    async def _set_webhook(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """setWebhook: remembered so getUpdates answers 409 like Telegram."""
        self.webhook_url = str(params.get("url") or "")
        self._drop_pending_updates(params)
        return True

    async def _delete_webhook(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """deleteWebhook, optionally dropping pending updates."""
        self.webhook_url = ""
        self._drop_pending_updates(params)
        return True

    def _drop_pending_updates(self, params: JSONDict) -> None:
        """Honour drop_pending_updates: the queued updates are confirmed without delivery."""
        if params.get("drop_pending_updates") and self._updates:
            self._last_confirmed = self._updates[-1]["update_id"] + 1
            self._updates.clear()

    async def _set_my_commands(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """setMyCommands with Telegram's validation of names and descriptions."""
        commands = check_commands(params.get("commands"))
        key = _commands_key(params.get("scope"), params.get("language_code"))
        self._my_commands[key] = commands
        return True

    async def _send_message(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """sendMessage with flood injection, HTML validation, length rules and replies."""
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        return self._send(params, "sendMessage", text, None)

    async def _edit_message_text(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """editMessageText on a message the bot sent; the record keeps the texts it replaced."""
        state = self._resolve_chat(params)
        self._check_flood(state, "editMessageText")
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        record = self._bot_message(state, params, "message to edit not found")
        wire = state.wire[record["message_id"]]
        if wire.get("from", {}).get("id") != self.bot_id or "text" not in wire:
            raise ApiError(400, "Bad Request: message can't be edited")
        plain, entities = render_text(text, params.get("parse_mode"))
        markup = check_markup(params.get("reply_markup"))
        if (
            plain == wire["text"]
            and entities == wire.get("entities", [])
            and (markup or None) == wire.get("reply_markup")
        ):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        wire.update(text=plain, entities=entities, edit_date=int(time.time()))
        if not entities:
            wire.pop("entities")
        if markup and "inline_keyboard" in markup:
            wire["reply_markup"] = markup
        else:
            wire.pop("reply_markup", None)
        record["edits"].append(record["text"])
        record.update(text=text, plain_text=plain, entities=entities, reply_markup=markup)
        return wire

    async def _delete_message(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """deleteMessage: gone from the chat; its record stays, marked deleted."""
        state = self._resolve_chat(params)
        record = self._bot_message(state, params, "message to delete not found")
        del state.wire[record["message_id"]]
        record["deleted"] = True
        return True

    @staticmethod
    def _bot_message(state: _ChatState, params: JSONDict, missing: str) -> JSONDict:
        """The record of a message still in the chat, by message_id, or Telegram's error."""
        message_id = params.get("message_id")
        if message_id is None or message_id == "":
            raise ApiError(400, "Bad Request: message identifier is not specified")
        if message_id not in state.wire:
            raise ApiError(400, f"Bad Request: {missing}")
        for record in state.bot_messages:
            if record["message_id"] == message_id:
                return record
        raise ApiError(400, "Bad Request: message can't be edited")

    async def _send_document(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """sendDocument from a multipart upload (the bot always uploads the bytes)."""
        upload = files.get("document")
        if upload is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return self._send(params, "sendDocument", str(params.get("caption") or ""), upload)

    def _send(
        self, params: JSONDict, method: str, text: str, upload: StoredFile | None
    ) -> JSONDict:
        """Check and store a message the bot sends; answer the Message object Telegram would."""
        state = self._resolve_chat(params)
        self._check_flood(state, method)
        parse_mode = params.get("parse_mode")
        plain, entities = render_text(text, parse_mode, caption=upload is not None)
        markup = check_markup(params.get("reply_markup"))
        reply_to = self._reply_target(state, params)
        message_id = self._next_message_id(state)
        now = int(time.time())
        wire: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "date": now,
            "chat": state.chat.to_dict(),
        }
        text_key, entities_key, document = "text", "entities", None
        if upload is not None:
            stored = self._store_file(upload.filename, upload.data, upload.mime_type)
            wire["document"] = stored.document_dict()
            text_key, entities_key = "caption", "caption_entities"
            document = {
                "file_id": stored.file_id,
                "filename": stored.filename,
                "data": stored.data,
                "mime_type": stored.mime_type,
            }
        if plain:
            wire[text_key] = plain
        if entities:
            wire[entities_key] = entities
        if markup and "inline_keyboard" in markup:
            wire["reply_markup"] = markup
        if reply_to is not None:
            wire["reply_to_message"] = self._embedded(state, reply_to)
        state.wire[message_id] = wire
        state.bot_messages.append(
            {
                "chat_id": state.chat.id,
                "message_id": message_id,
                "date": now,
                "method": method,
                "text": text,
                "plain_text": plain,
                "parse_mode": parse_mode,
                "entities": entities,
                "reply_markup": markup,
                "reply_to": reply_to,
                "document": document,
                "edits": [],  # the texts editMessageText replaced, oldest first
                "deleted": False,
            }
        )
        return wire

    async def _send_chat_action(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """sendChatAction, recorded per chat."""
        state = self._resolve_chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        state.actions.append(str(action))
        return True

    async def _answer_callback_query(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """answerCallbackQuery; each query can be answered once."""
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._pending_callbacks:
            raise ApiError(400, QUERY_TOO_OLD)
        self._pending_callbacks.discard(query_id)
        return True

    async def _answer_inline_query(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """answerInlineQuery, validated as Telegram does; each query is answered once, in time."""
        query_id = str(params.get("inline_query_id") or "")
        asked = self._pending_inline.pop(query_id, None)
        if asked is None or time.monotonic() - asked > INLINE_ANSWER_WINDOW_S:
            raise ApiError(400, QUERY_TOO_OLD)
        results = _json_param(params, "results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results if isinstance(result, dict)]
        if len(ids) != len(results) or not all(1 <= len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for result in results:
            if result.get("type") != "article" or not str(result.get("title", "")).strip():
                raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
            content = result.get("input_message_content")
            if not isinstance(content, dict) or "message_text" not in content:
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
            shown, _ = render_text(str(content["message_text"]), content.get("parse_mode"))
            result["shown_text"] = shown  # what a chat would show once the result is sent
        self.inline_answers[query_id] = {
            "results": results,
            "cache_time": int(params.get("cache_time", 300)),
            "is_personal": str(params.get("is_personal", "")).lower() in ("true", "1"),
        }
        return True

    async def _get_chat_member(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """getChatMember: "creator"/"administrator" for `set_administrators`, else "member"."""
        state = self._resolve_chat(params)
        try:
            user_id = int(params.get("user_id") or "")
        except ValueError:
            raise ApiError(400, "Bad Request: invalid user_id specified") from None
        self.members_asked.append((state.chat.id, user_id))
        admins = self._administrators.get(state.chat.id, {})
        if user_id not in admins:
            user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
            return {"status": "member", "user": user}
        user = admins[user_id].to_dict()
        if user_id == next(iter(admins)):
            return {"status": "creator", "user": user, "is_anonymous": False}
        rights = [
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        ]
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            **dict.fromkeys(rights, True),
        }

    async def _get_file(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """getFile: the File object whose file_path is served under base_file_url."""
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return stored.file_dict()


def _json_param(params: JSONDict, name: str) -> Any:
    """A JSON-serialised parameter the generic decoding leaves as text (inline results)."""
    value = params.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None


def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
    """Key commands by scope and language, as Telegram stores them."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, StoredFile]]:
    """Read the form or multipart body PTB sends; uploads come back as StoredFile."""
    raw: dict[str, str] = {}
    files: dict[str, StoredFile] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[name] = StoredFile(
                file_id="",
                file_unique_id="",
                filename=value.filename or name,
                data=value.file.read(),
                mime_type=value.content_type or "application/octet-stream",
                file_path="",
            )
        else:
            raw[name] = value if isinstance(value, str) else bytes(value).decode()
    return raw, files
