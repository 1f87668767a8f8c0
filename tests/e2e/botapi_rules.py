"""What the Bot API refuses, with Telegram's error texts: parameters, texts, keyboards, commands.

Pure functions that raise ApiError, kept apart from the server's state so each rule can be read
(and checked against Telegram's behaviour) on its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.e2e.telegram_html import HtmlParseError, parse_html, utf16_len

__all__ = [
    "CHAT_ACTIONS",
    "QUERY_TOO_OLD",
    "ApiError",
    "check_commands",
    "check_markup",
    "command_entities",
    "decode_params",
    "render_text",
]

JSONDict = dict[str, Any]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100

QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
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
# Form-encoded values are always strings; these turn them back into the documented JSON types.
_JSON_PARAMS = frozenset(
    {"reply_markup", "reply_parameters", "commands", "scope", "allowed_updates"}
)
_INT_PARAMS = frozenset({"offset", "limit", "max_connections", "message_id"})
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset(
    {"drop_pending_updates", "disable_notification", "protect_content", "show_alert"}
)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


class ApiError(Exception):
    """An error answer of the Bot API; raised by the rules, recorded by the server."""

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


def decode_params(raw: dict[str, str]) -> JSONDict:
    """Turn form strings back into the JSON types the Bot API documents."""
    params: JSONDict = {}
    for name, value in raw.items():
        if name in _JSON_PARAMS:
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
        elif name in _INT_PARAMS or name in _FLOAT_PARAMS:
            try:
                params[name] = int(value) if name in _INT_PARAMS else float(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: invalid {name} specified") from None
        elif name in _BOOL_PARAMS:
            params[name] = value.lower() in ("true", "1")
        else:
            params[name] = value
    return params


def render_text(
    text: str, parse_mode: str | None, *, caption: bool = False
) -> tuple[str, list[JSONDict]]:
    """Apply parse_mode and the length rules; return (visible text, entities) as Telegram would.

    Only HTML is accepted as a parse mode: it is the one the bot writes, and the checker
    refuses it where Telegram does (and also a bare "&", to catch forgotten escaping).
    """
    plain, entities = text, list[JSONDict]()
    if parse_mode:
        if parse_mode.lower() != "html":
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        try:
            plain, entities = parse_html(text)
        except HtmlParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    if caption:
        if len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
    else:
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
    return plain, entities


def check_markup(markup: Any) -> JSONDict | None:
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


def check_commands(commands: Any) -> list[JSONDict]:
    """Validate setMyCommands' list: at most 100, lowercase names, non-empty descriptions."""
    if not isinstance(commands, list):
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise ApiError(400, "Bad Request: too many commands")
    for command in commands:
        if not isinstance(command, dict):
            raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
        if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise ApiError(400, "Bad Request: command description must be non-empty")
    return [dict(c) for c in commands]


def command_entities(text: str) -> list[JSONDict]:
    """The bot_command entity Telegram adds to a message starting with "/cmd[@bot]"."""
    match = _COMMAND_RE.match(text or "")
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
