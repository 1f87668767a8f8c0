"""A fake Telegram Bot API server, so the real PTB Application can be tested over real HTTP.

Point PTB at it with::

    async with BotApiServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )
        async with run_application(app):
            server.user_sends(private_chat(ANA), ANA, "/start")
            [reply] = await server.wait_for_messages(ANA.id, 1)

Everything runs in the test's event loop; no thread, no network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import html
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web

if TYPE_CHECKING:
    from telegram.ext import Application

__all__ = [
    "ApiError",
    "BotApiServer",
    "ChatSpec",
    "HtmlParseError",
    "LoggedRequest",
    "StoredFile",
    "UserSpec",
    "escape",
    "group_chat",
    "parse_html",
    "private_chat",
    "run_application",
]

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "123456789:TEST-tertulia-fake-token"
DEFAULT_BOT_USERNAME = "TertuliaTestBot"
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# How form-encoded values (always strings) are turned back into JSON types.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
    }
)
_INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "user_id",
        "from_chat_id",
    }
)
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)


# --------------------------------------------------------------------------- users and chats


@dataclass(frozen=True)
class UserSpec:
    """A Telegram user the tests act as; frozen so it can key dicts and sets."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "es"
    is_bot: bool = False

    def to_dict(self) -> JSONDict:
        """Render as a Bot API User object, leaving out empty optional fields like Telegram."""
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class ChatSpec:
    """A chat the tests talk in; private chats share the user's id, groups have negative ids."""

    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def __post_init__(self) -> None:
        """Reject ids Telegram would never give, so tests do not build impossible chats."""
        if self.type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {self.type!r}")
        if self.type == "private" and self.id <= 0:
            raise ValueError("private chats have the (positive) id of the user")
        if self.type != "private" and self.id >= 0:
            raise ValueError("group, supergroup and channel ids are negative")

    def to_dict(self) -> JSONDict:
        """Render as a Bot API Chat object."""
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


def private_chat(user: UserSpec) -> ChatSpec:
    """Build the private chat between the bot and `user` (chat id == user id, as on Telegram)."""
    return ChatSpec(
        id=user.id,
        type="private",
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
    )


def group_chat(
    chat_id: int = -1001234567890, title: str = "Tertulia de prueba", type: str = "supergroup"
) -> ChatSpec:
    """Build a group ("group") or supergroup ("supergroup") chat; ids must be negative."""
    if type not in ("group", "supergroup"):
        raise ValueError("type must be 'group' or 'supergroup'")
    return ChatSpec(id=chat_id, type=type, title=title)


# --------------------------------------------------------------------------- HTML parse mode


class HtmlParseError(ValueError):
    """Raised by `parse_html` with the text Telegram puts after "can't parse entities: "."""


_HTML_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);")
_TAG_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z0-9_-]+")
_SPACE_RE = re.compile(r"\s*")
_UNQUOTED_RE = re.compile(r"[^\s>]*")


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports HTML errors at UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, pos: int, strict: bool) -> tuple[str, int] | None:
    """Decode the HTML entity at `pos`; None means keep "&" literally (Telegram's lax mode)."""
    match = _ENTITY_RE.match(text, pos)
    if match:
        name = match.group(1)
        if name.startswith("#"):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code), match.end()
        elif name in _NAMED_ENTITIES:
            return _NAMED_ENTITIES[name], match.end()
        if strict:
            raise HtmlParseError(
                f'Unsupported HTML entity "{match.group(0)}" at byte offset '
                f"{_byte_offset(text, pos)}; only &lt; &gt; &amp; &quot; and numeric "
                "entities are supported"
            )
        return None
    if strict:
        raise HtmlParseError(
            f"Character '&' must be escaped as &amp; at byte offset {_byte_offset(text, pos)}"
        )
    return None


def _parse_attributes(
    text: str, pos: int, tag: str, start: int, strict: bool
) -> tuple[dict[str, str], int]:
    """Read `name="value"` pairs up to the closing ">" of a start tag; return them and the end."""
    attrs: dict[str, str] = {}
    while True:
        pos = _SPACE_RE.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
        if text[pos] == ">":
            return attrs, pos + 1
        name_match = _ATTR_NAME_RE.match(text, pos)
        if not name_match:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, start)}"
            )
        name = name_match.group(0).lower()
        pos = _SPACE_RE.match(text, name_match.end()).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] != "=":
            attrs[name] = ""
            continue
        pos = _SPACE_RE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if pos >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
        quote = text[pos]
        if quote in "\"'":
            end = text.find(quote, pos + 1)
            if end < 0:
                raise HtmlParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, start)}'
                )
            raw, pos = text[pos + 1 : end], end + 1
        else:
            value_match = _UNQUOTED_RE.match(text, pos)
            assert value_match is not None
            raw, pos = value_match.group(0), value_match.end()
        attrs[name] = _unescape(raw, strict)


def _unescape(raw: str, strict: bool) -> str:
    """Decode entities inside an attribute value with the same rules as text."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "&":
            decoded = _decode_entity(raw, i, strict)
            if decoded:
                out.append(decoded[0])
                i = decoded[1]
                continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML parse mode into (visible text, entities), raising HtmlParseError.

    Mirrors tdlib's rules: only Telegram's tags, properly nested and closed, "<" always starts
    a tag. With `strict` (the default) a bare "&" or a named entity other than
    &lt; &gt; &amp; &quot; is an error too (real Telegram keeps them literally), so forgotten
    escaping is caught in tests.
    """
    out: list[str] = []
    out_len = 0  # UTF-16 length of the visible text so far
    stack: list[tuple[str, int, dict[str, str], int]] = []  # tag, offset, attrs, text index
    entities: list[JSONDict] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i, strict)
            if decoded:
                out.append(decoded[0])
                out_len += _utf16_len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            out_len += _utf16_len(ch)
            i += 1
            continue
        start = i
        if i + 1 < n and text[i + 1] == "/":
            name_match = _TAG_NAME_RE.match(text, i + 2)
            assert name_match is not None
            name = name_match.group(0).lower()
            end = _SPACE_RE.match(text, name_match.end()).end()  # type: ignore[union-attr]
            if end >= n or text[end] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, start)}")
            if not stack:
                raise HtmlParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, start)}"
                )
            open_tag, offset, attrs, _ = stack[-1]
            if name != open_tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, start)}, "
                    f'expected "</{open_tag}>", found "</{name}>"'
                )
            stack.pop()
            entity = _make_entity(open_tag, offset, out_len - offset, attrs, stack)
            if entity is not None:
                entities.append(entity)
            i = end + 1
            continue
        name_match = _TAG_NAME_RE.match(text, i + 1)
        assert name_match is not None
        name = name_match.group(0).lower()
        if name not in _HTML_TAG_ENTITY:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, start)}'
            )
        attrs, i = _parse_attributes(text, name_match.end(), name, start, strict)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError('Tag "tg-emoji" must have a numeric attribute "emoji-id"')
        stack.append((name, out_len, attrs, start))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _make_entity(
    tag: str,
    offset: int,
    length: int,
    attrs: Mapping[str, str],
    outer: list[tuple[str, int, dict[str, str], int]],
) -> JSONDict | None:
    """Turn a closed tag into a MessageEntity dict, or None where Telegram drops it."""
    if length == 0:
        return None
    kind = _HTML_TAG_ENTITY[tag]
    entity: JSONDict = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "code" and outer and outer[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language.
        language = attrs.get("class", "")
        if language.startswith("language-"):
            outer[-1][2]["__language"] = language.removeprefix("language-")
        return None
    elif tag == "pre" and attrs.get("__language"):
        entity["language"] = attrs["__language"]
    return entity


# --------------------------------------------------------------------------- records


class LoggedRequest(NamedTuple):
    """One request as the server saw it: method name, decoded parameters, monotonic time."""

    method: str
    params: JSONDict
    time: float


class ApiError(Exception):
    """An error answer of the Bot API; raised inside method handlers, also kept in `errors`."""

    def __init__(
        self, error_code: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        """Keep the fields Telegram sends back."""
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.method = ""
        self.params: JSONDict = {}

    def payload(self) -> JSONDict:
        """The JSON body Telegram would answer with."""
        data: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


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


# --------------------------------------------------------------------------- the server


class BotApiServer:
    """A fake Bot API on 127.0.0.1 that records what the bot does and lets tests act as users."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "Tertulia",
        *,
        strict_html: bool = True,
        privacy_mode: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure; nothing listens until `start()`."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_html = strict_html
        self.privacy_mode = privacy_mode
        self.host = host
        self.port = port
        self.base_url = ""
        self.base_file_url = ""

        self.request_log: list[LoggedRequest] = []
        self.errors: list[ApiError] = []
        self.unknown_methods: list[str] = []
        self.callback_answers: list[JSONDict] = []
        self.webhook_url = ""
        self.closed = False
        self.logged_out = False

        self._chats: dict[int, _ChatState] = {}
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(100_001)
        self._last_confirmed = 0
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._pending_callbacks: dict[str, JSONDict] = {}
        self._my_commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._unreachable: str | None = None
        self._delay = 0.0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[JSONDict, dict[str, StoredFile]], Awaitable[Any]]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendChatAction": self._send_chat_action,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
                "close": self._close,
                "logOut": self._log_out,
            }.items()
        }

    # ----------------------------------------------------------------------- lifecycle

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
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = address[1]
        self.base_url = f"http://{self.host}:{self.port}/bot"
        self.base_file_url = f"http://{self.host}:{self.port}/file/bot"

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

    # ----------------------------------------------------------------------- fault injection

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

    def set_unreachable(self, unreachable: bool = True, mode: str = "502") -> None:
        """Simulate a down API: every request gets 502 (mode "502") or a dropped connection
        (mode "drop")."""
        if mode not in ("502", "drop"):
            raise ValueError("mode must be '502' or 'drop'")
        self._unreachable = mode if unreachable else None

    def slow(self, seconds: float) -> None:
        """Delay every answer by `seconds` (0 turns it off)."""
        self._delay = max(0.0, seconds)

    # ----------------------------------------------------------------------- acting as users

    def user_sends(
        self,
        chat: ChatSpec,
        user: UserSpec,
        text: str,
        reply_to: int | None = None,
        document: tuple[str, bytes, str] | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """Queue a `message` update as if `user` wrote `text` in `chat`; return the update.

        A leading "/command[@bot]" gets its bot_command entity. `reply_to` is the id of any
        message stored in that chat. With `document=(filename, data, mime_type)` the text
        becomes the caption and the file is served by getFile.
        """
        state = self._register_chat(chat)
        message: JSONDict = {
            "message_id": self._next_message_id(state),
            "from": user.to_dict(),
            "date": int(time.time()),
            "chat": chat.to_dict(),
        }
        auto_entities = entities if entities is not None else _command_entities(text)
        if document is not None:
            filename, data, mime_type = document
            stored = self._store_file(filename, data, mime_type)
            message["document"] = stored.document_dict()
            if text:
                message["caption"] = text
                if auto_entities:
                    message["caption_entities"] = auto_entities
        else:
            if not text:
                raise ValueError("a text message needs text (or pass a document)")
            message["text"] = text
            if auto_entities:
                message["entities"] = auto_entities
        if reply_to is not None:
            message["reply_to_message"] = self._embedded(state, reply_to)
        state.wire[message["message_id"]] = message
        update = {"update_id": next(self._update_ids), "message": message}
        if self._delivers(chat, message):
            self._updates.append(update)
        self._notify()
        return update

    def user_presses(
        self,
        chat: ChatSpec | int,
        user: UserSpec,
        message_id: int,
        callback_data: str,
        *,
        strict: bool = True,
    ) -> JSONDict:
        """Queue a `callback_query` update as if `user` pressed a button; return the update.

        With `strict`, the button must exist in the message's current inline keyboard, since a
        real user cannot press a button that is gone.
        """
        chat_id = chat.id if isinstance(chat, ChatSpec) else chat
        state = self._chat_state(chat_id)
        message = state.wire.get(message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        if strict:
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
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": json.loads(json.dumps(message)),
            "chat_instance": f"ci{abs(chat_id)}",
            "data": callback_data,
        }
        self._pending_callbacks[query_id] = query
        update = {"update_id": next(self._update_ids), "callback_query": query}
        self._updates.append(update)
        self._notify()
        return update

    # ----------------------------------------------------------------------- inspection

    def messages(self, chat_id: int) -> list[JSONDict]:
        """All messages the bot sent to `chat_id`, in order (live dicts; edits show up)."""
        return list(self._chat_state(chat_id).bot_messages)

    def transcript(self, chat_id: int) -> list[JSONDict]:
        """Every message of the chat, user's and bot's, as the current Message objects."""
        return list(self._chat_state(chat_id).wire.values())

    def chat_actions(self, chat_id: int) -> list[str]:
        """The sendChatAction actions the bot sent to `chat_id`, in order."""
        return list(self._chat_state(chat_id).actions)

    @property
    def commands(self) -> list[JSONDict]:
        """The commands set with setMyCommands for the default scope and no language."""
        return list(self._my_commands.get(_commands_key(None, None), []))

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands set for a given scope and language."""
        return list(self._my_commands.get(_commands_key(scope, language_code), []))

    def calls(self, method: str) -> list[LoggedRequest]:
        """Logged requests for one method (case-insensitive)."""
        return [r for r in self.request_log if r.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by a later getUpdates offset."""
        return sum(1 for u in self._updates if u["update_id"] >= self._last_confirmed)

    @property
    def files(self) -> dict[str, StoredFile]:
        """Every stored file by file_id (user uploads and bot sendDocument)."""
        return dict(self._files)

    def mark(self, chat_id: int) -> None:
        """Start counting new bot messages in `chat_id` from now on."""
        state = self._chat_state(chat_id)
        state.mark = len(state.bot_messages)

    def since_mark(self, chat_id: int) -> list[JSONDict]:
        """Bot messages in `chat_id` after the last `mark` (or since start)."""
        state = self._chat_state(chat_id)
        return state.bot_messages[state.mark :]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10.0,
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

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,
    ) -> None:
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

    # ----------------------------------------------------------------------- HTTP layer

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        """Decode one Bot API call, log it, apply fault injection and dispatch it."""
        method = request.match_info["method"]
        try:
            raw, files = await _read_params(request)
        except ValueError:
            raw, files = {}, {}
        try:
            params = _coerce(raw)
        except ApiError as exc:
            self.request_log.append(LoggedRequest(method, raw, time.monotonic()))
            return self._error_response(exc, method, raw)
        logged = dict(params)
        for name, stored in files.items():
            logged[name] = {"filename": stored.filename, "size": len(stored.data)}
        self.request_log.append(LoggedRequest(method, logged, time.monotonic()))
        self._notify()
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._unreachable == "drop":
            return _drop(request)
        if self._unreachable == "502":
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
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._unreachable == "drop":
            return _drop(request)
        if self._unreachable == "502":
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

    # ----------------------------------------------------------------------- state helpers

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

    def _register_chat(self, chat: ChatSpec) -> _ChatState:
        """Remember the chat's details as the tests describe it."""
        state = self._chat_state(chat.id)
        state.chat = chat
        return state

    def _resolve_chat(self, params: JSONDict) -> _ChatState:
        """Find the chat a method targets by numeric id or @username."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            for state in self._chats.values():
                if state.chat.username and "@" + state.chat.username == chat_id:
                    return state
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

    def _delivers(self, chat: ChatSpec, message: JSONDict) -> bool:
        """Apply group privacy mode when enabled: commands, mentions, replies to the bot."""
        if not self.privacy_mode or chat.type == "private":
            return True
        text = message.get("text") or message.get("caption") or ""
        replied = message.get("reply_to_message") or {}
        return (
            text.startswith("/")
            or f"@{self.bot_username}".lower() in text.lower()
            or (replied.get("from") or {}).get("id") == self.bot_id
        )

    def _store_file(self, filename: str, data: bytes, mime_type: str) -> StoredFile:
        """Keep a file so getFile and the download URL can serve it."""
        number = next(self._file_ids)
        file_id = f"BQACAgQAAxkBAAI{number:06d}fake"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"AgAD{number:06d}",
            filename=filename,
            data=data,
            mime_type=mime_type or "application/octet-stream",
            file_path=f"documents/file_{number}_{_safe_name(filename)}",
        )
        self._files[file_id] = stored
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

    def _render(
        self,
        text: str,
        parse_mode: str | None,
        entities: list[JSONDict] | None,
        *,
        caption: bool = False,
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode and Telegram's length rules; return (visible text, entities)."""
        if entities is not None:
            plain, parsed = text, list(entities)
        elif parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    plain, parsed = parse_html(text, strict=self.strict_html)
                except HtmlParseError as exc:
                    raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
            elif mode in ("markdown", "markdownv2"):
                plain, parsed = text, []  # accepted as is; not validated
            else:
                raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            plain, parsed = text, []
        if caption:
            if len(plain) > MAX_CAPTION_LENGTH:
                raise ApiError(400, "Bad Request: message caption is too long")
        else:
            if not plain.strip():
                raise ApiError(400, "Bad Request: message text is empty")
            if len(plain) > MAX_MESSAGE_LENGTH:
                raise ApiError(400, "Bad Request: message is too long")
        return plain, parsed

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        """Validate reply_markup the way Telegram rejects broken inline keyboards."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise ApiError(400, 'Bad Request: can\'t find field "text"')
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= (
                        MAX_CALLBACK_DATA_BYTES
                    ):
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _reply_target(self, state: _ChatState, params: JSONDict) -> int | None:
        """Resolve reply_parameters (or legacy reply_to_message_id) to a message in the chat."""
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
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

    def _new_bot_message(
        self, state: _ChatState, method: str, content: JSONDict, record: JSONDict
    ) -> JSONDict:
        """Store a message the bot sent and return the Message object for the answer."""
        message_id = self._next_message_id(state)
        now = int(time.time())
        wire: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "date": now,
            "chat": state.chat.to_dict(),
            **content,
        }
        reply_to = record.get("reply_to")
        if reply_to is not None:
            wire["reply_to_message"] = self._embedded(state, reply_to)
        state.wire[message_id] = wire
        state.bot_messages.append(
            {
                "chat_id": state.chat.id,
                "message_id": message_id,
                "date": now,
                "method": method,
                "history": [],
                "deleted": False,
                **record,
            }
        )
        return wire

    def _find_bot_message(self, params: JSONDict) -> tuple[_ChatState, JSONDict]:
        """Find the bot's own message an edit targets."""
        state = self._resolve_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        for record in state.bot_messages:
            if record["message_id"] == message_id and not record["deleted"]:
                return state, record
        if message_id in state.wire:
            raise ApiError(400, "Bad Request: message can't be edited")
        raise ApiError(400, "Bad Request: message to edit not found")

    # ----------------------------------------------------------------------- API methods

    async def _get_me(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """getMe: PTB's initialize() needs is_bot, id, first_name and username."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
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
        timeout = float(params.get("timeout") or 0)
        if offset > 0:
            self._last_confirmed = max(self._last_confirmed, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            available = [u for u in self._updates if u["update_id"] >= self._last_confirmed]
            remaining = deadline - loop.time()
            if available or remaining <= 0 or self._closing:
                return available[:limit]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _delete_webhook(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """deleteWebhook, optionally dropping pending updates."""
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            if self._updates:
                self._last_confirmed = self._updates[-1]["update_id"] + 1
            self._updates.clear()
        return True

    async def _set_webhook(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """setWebhook: remembered so getUpdates answers 409 like Telegram."""
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """getWebhookInfo with the fields PTB requires."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates,
        }

    async def _set_my_commands(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """setMyCommands with Telegram's validation of names and descriptions."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: command description must be non-empty")
        key = _commands_key(params.get("scope"), params.get("language_code"))
        self._my_commands[key] = [dict(c) for c in commands]
        return True

    async def _get_my_commands(self, params: JSONDict, files: dict[str, StoredFile]) -> Any:
        """getMyCommands for a scope and language."""
        key = _commands_key(params.get("scope"), params.get("language_code"))
        return self._my_commands.get(key, [])

    async def _delete_my_commands(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """deleteMyCommands for a scope and language."""
        self._my_commands.pop(_commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _send_message(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """sendMessage with flood injection, HTML validation, length rules and replies."""
        state = self._resolve_chat(params)
        self._check_flood(state, "sendMessage")
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        plain, entities = self._render(text, parse_mode, params.get("entities"))
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_target(state, params)
        content: JSONDict = {"text": plain}
        if entities:
            content["entities"] = entities
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        return self._new_bot_message(
            state,
            "sendMessage",
            content,
            {
                "text": text,
                "plain_text": plain,
                "parse_mode": parse_mode,
                "entities": entities,
                "reply_markup": markup,
                "reply_to": reply_to,
                "document": None,
            },
        )

    async def _send_document(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """sendDocument from a multipart upload or a known file_id."""
        state = self._resolve_chat(params)
        self._check_flood(state, "sendDocument")
        document = params.get("document")
        upload = files.get("document")
        if upload is None and isinstance(document, str) and document.startswith("attach://"):
            upload = files.get(document.removeprefix("attach://"))
        if upload is not None:
            stored = self._store_file(upload.filename, upload.data, upload.mime_type)
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = params.get("caption") or ""
        parse_mode = params.get("parse_mode")
        plain, entities = self._render(
            caption, parse_mode, params.get("caption_entities"), caption=True
        )
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_target(state, params)
        content: JSONDict = {"document": stored.document_dict()}
        if plain:
            content["caption"] = plain
        if entities:
            content["caption_entities"] = entities
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        return self._new_bot_message(
            state,
            "sendDocument",
            content,
            {
                "text": caption,
                "plain_text": plain,
                "parse_mode": parse_mode,
                "entities": entities,
                "reply_markup": markup,
                "reply_to": reply_to,
                "document": {
                    "file_id": stored.file_id,
                    "filename": stored.filename,
                    "data": stored.data,
                    "mime_type": stored.mime_type,
                },
            },
        )

    async def _edit_message_text(self, params: JSONDict, files: dict[str, StoredFile]) -> Any:
        """editMessageText; like Telegram, leaving out reply_markup removes the keyboard."""
        if params.get("inline_message_id"):
            return True
        state, record = self._find_bot_message(params)
        if record["document"] is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        plain, entities = self._render(text, parse_mode, params.get("entities"))
        markup = self._check_markup(params.get("reply_markup"))
        if (
            plain == record["plain_text"]
            and entities == record["entities"]
            and markup == record["reply_markup"]
        ):
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit(
            state,
            record,
            "editMessageText",
            {
                "text": text,
                "plain_text": plain,
                "parse_mode": parse_mode,
                "entities": entities,
                "reply_markup": markup,
            },
        )

    async def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, StoredFile]
    ) -> Any:
        """editMessageReplyMarkup; no reply_markup removes the keyboard."""
        if params.get("inline_message_id"):
            return True
        state, record = self._find_bot_message(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == record["reply_markup"]:
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit(state, record, "editMessageReplyMarkup", {"reply_markup": markup})

    def _apply_edit(
        self, state: _ChatState, record: JSONDict, method: str, changes: JSONDict
    ) -> JSONDict:
        """Keep the previous version in the record's history, then update record and Message."""
        previous = {
            key: record[key]
            for key in ("text", "plain_text", "parse_mode", "entities", "reply_markup")
        }
        record["history"].append({**previous, "replaced_by": method, "time": time.time()})
        record.update(changes)
        wire = state.wire[record["message_id"]]
        if "plain_text" in changes:
            key = "caption" if record["document"] is not None else "text"
            wire[key] = changes["plain_text"]
            entity_key = "caption_entities" if key == "caption" else "entities"
            wire.pop(entity_key, None)
            if changes["entities"]:
                wire[entity_key] = changes["entities"]
        wire.pop("reply_markup", None)
        markup = record["reply_markup"]
        if markup and "inline_keyboard" in markup:
            wire["reply_markup"] = markup
        wire["edit_date"] = int(time.time())
        return wire

    async def _delete_message(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """deleteMessage of any message in the chat (bots may delete incoming ones too)."""
        state = self._resolve_chat(params)
        message_id = params.get("message_id")
        if state.wire.pop(message_id, None) is None:  # type: ignore[arg-type]
            raise ApiError(400, "Bad Request: message to delete not found")
        for record in state.bot_messages:
            if record["message_id"] == message_id:
                record["deleted"] = True
        return True

    async def _send_chat_action(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """sendChatAction, recorded per chat."""
        state = self._resolve_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        state.actions.append(str(action))
        return True

    async def _answer_callback_query(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """answerCallbackQuery; each query can be answered once."""
        query_id = str(params.get("callback_query_id") or "")
        if self._pending_callbacks.pop(query_id, None) is None:
            raise ApiError(400, QUERY_TOO_OLD)
        self.callback_answers.append(dict(params))
        return True

    async def _get_file(self, params: JSONDict, files: dict[str, StoredFile]) -> JSONDict:
        """getFile: the File object whose file_path is served under base_file_url."""
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return stored.file_dict()

    async def _close(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """close: only recorded."""
        self.closed = True
        return True

    async def _log_out(self, params: JSONDict, files: dict[str, StoredFile]) -> bool:
        """logOut: only recorded."""
        self.logged_out = True
        return True


# --------------------------------------------------------------------------- helpers


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def _command_entities(text: str) -> list[JSONDict]:
    """The bot_command entity Telegram adds to a message starting with "/cmd[@bot]"."""
    match = _COMMAND_RE.match(text or "")
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}]


def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
    """Key commands by scope and language, as Telegram stores them."""
    scope = scope or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(language_code or "")


def _safe_name(filename: str) -> str:
    """Keep file paths URL-safe and free of directories."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:64] or "file"


async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, StoredFile]]:
    """Read parameters from the query, a JSON body, a form or a multipart body."""
    raw: JSONDict = dict(request.query)
    files: dict[str, StoredFile] = {}
    if request.method == "GET" or not request.can_read_body:
        return raw, files
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            raw.update(data)
        return raw, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            data_bytes = value.file.read()
            files[name] = StoredFile(
                file_id="",
                file_unique_id="",
                filename=value.filename or name,
                data=data_bytes,
                mime_type=value.content_type or "application/octet-stream",
                file_path="",
            )
        else:
            raw[name] = value
    return raw, files


def _coerce(raw: JSONDict) -> JSONDict:
    """Turn form strings back into the JSON types the Bot API documents."""
    params: JSONDict = {}
    for name, value in raw.items():
        if not isinstance(value, str):
            params[name] = value
        elif name in _JSON_PARAMS:
            try:
                params[name] = json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise ApiError(
                        400, "Bad Request: can't parse reply keyboard markup JSON object"
                    ) from None
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
        elif name == "chat_id":
            params[name] = int(value) if re.fullmatch(r"-?\d+", value) else value
        elif name in _INT_PARAMS:
            try:
                params[name] = int(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: invalid {name} specified") from None
        elif name in _FLOAT_PARAMS:
            try:
                params[name] = float(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: invalid {name} specified") from None
        elif name in _BOOL_PARAMS:
            params[name] = value.lower() in ("true", "1")
        else:
            params[name] = value
    return params


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering, like a dead proxy."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=502)  # never written: the connection is already gone


def escape(text: str) -> str:
    """Escape user text for HTML parse mode (what bot code should do before formatting)."""
    return html.escape(text, quote=False)


@contextlib.asynccontextmanager
async def run_application(
    app: Application, poll_timeout: float = 1.0
) -> AsyncIterator[Application]:
    """Initialize, start and long-poll `app`, then stop it in the right order on exit.

    poll_interval=0 with long polling: the pending getUpdates returns the moment a test
    queues an update, so round trips take milliseconds; `poll_timeout` only bounds idle polls.
    """
    await app.initialize()
    try:
        await app.start()
        try:
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0.0, timeout=dtm.timedelta(seconds=poll_timeout)
            )
            try:
                yield app
            finally:
                await app.updater.stop()
        finally:
            await app.stop()
    finally:
        await app.shutdown()
