"""Voice notes, audio files and video notes from Telegram, downloaded for /transcribir.

In a private chat a voice note is a request by itself (to transcribe it); in a group the bot
only listens when someone answers a voice note with /transcribir, so nothing is downloaded
unasked. Files over MAX_AUDIO_BYTES are not downloaded at all.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Audio, Message, VideoNote, Voice
from telegram.error import TelegramError
from telegram.ext import filters

from bot.request import AudioAttachment, ChatKind

log = logging.getLogger(__name__)

AUDIO_MESSAGES = filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE
"""The messages whose audio can be transcribed."""
COMMAND = "transcribir"

Media = Voice | Audio | VideoNote


def audio_of(message: Message | None) -> Media | None:
    """The voice note, audio file or video note a message carries, if any."""
    if message is None:
        return None
    return message.voice or message.audio or message.video_note


async def audio_request(
    message: Message, command: str | None, chat_kind: ChatKind, max_bytes: int
) -> tuple[str | None, AudioAttachment | None]:
    """The request's command and audio: a private voice note asks for its transcript by itself;
    /transcribir takes its own audio or, in reply, the replied-to message's."""
    own = audio_of(message)
    if own is not None and chat_kind == "private":
        return command or COMMAND, await download(own, max_bytes)
    if command != COMMAND:
        return command, None
    media = own or audio_of(message.reply_to_message)
    return command, await download(media, max_bytes) if media is not None else None


async def download(media: Media, max_bytes: int) -> AudioAttachment:
    """The file's bytes, unless Telegram says it is over the cap (then not downloaded)."""
    mime = getattr(media, "mime_type", None) or (
        "video/mp4" if isinstance(media, VideoNote) else ""
    )
    duration = _seconds(media.duration)
    if media.file_size and media.file_size > max_bytes:
        return AudioAttachment(mime=mime, duration=duration, error="too_big")
    try:
        telegram_file = await media.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download an audio file: %s", exc)
        return AudioAttachment(mime=mime, duration=duration, error="download")
    if len(data) > max_bytes:
        return AudioAttachment(mime=mime, duration=duration, error="too_big")
    return AudioAttachment(data=data, mime=mime, duration=duration)


def _seconds(value: int | dt.timedelta | None) -> float:
    """PTB 22 gives durations as int seconds or, opted in, as timedelta."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value or 0)
