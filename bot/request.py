"""The plain data that flows between adapters and handlers (see STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChatKind = Literal["private", "group", "supergroup", "channel"]


@dataclass(frozen=True)
class AudioAttachment:
    """A voice note, audio file or video note as it arrived: undecoded bytes (bot/audio.py).

    `duration` is what the sender's app declared (0 when unknown); `error` is "too_big" when
    the file was over MAX_AUDIO_BYTES and was not downloaded.
    """

    data: bytes = b""
    mime: str = ""
    duration: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class Request:
    """What a user asked, independent of the transport that carried it.

    `command` is the command name without slash or @suffix ("traducir"), or None for plain
    text; `action` is a button's payload. `text` is the text after the command (or the whole
    plain message); `reply_text` the text of the message this one replies to. `operator` marks
    the bot's own operator at the console: never limited or refused, and an administrator.
    """

    chat_id: int
    user_id: int
    chat_kind: ChatKind = "private"
    command: str | None = None
    text: str = ""
    reply_text: str | None = None
    document_text: str | None = None
    document_error: str | None = None
    audio: AudioAttachment | None = None
    action: str | None = None
    replies_to_bot: bool = False
    operator: bool = False
    # The sender's display name, as a group's memory (/memoria) records who said what.
    author: str = ""
    # Written by a bot, or sent through this one inline: never translated back automatically.
    from_bot: bool = False

    @property
    def is_private(self) -> bool:
        return self.chat_kind == "private"


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # at most 64 bytes: Telegram's limit on callback data


@dataclass(frozen=True)
class ReplyFile:
    name: str
    content: bytes


@dataclass
class Reply:
    """Telegram-HTML text parts (user text already escaped), optional buttons and a file."""

    parts: list[str] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    file: ReplyFile | None = None

    @classmethod
    def text(cls, *parts: str, buttons: list[list[Button]] | None = None) -> Reply:
        return cls(parts=list(parts), buttons=buttons or [])


def parse_command(text: str, bot_username: str) -> tuple[str | None, str]:
    """("traducir", "hola") from "/traducir@Bot hola"; ("", "") for another bot's command.

    Returns (None, text) for plain text.
    """
    if not text.startswith("/"):
        return None, text
    head, _, rest = text.partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return "", ""
    return name.lower(), rest.strip()
