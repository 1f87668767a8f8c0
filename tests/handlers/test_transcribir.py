"""Voice notes: transcribed with the usual buttons, or refused in Spanish before a model runs."""

from __future__ import annotations

import numpy as np
import pytest

from bot import texts
from bot.engine.results import Transcription
from bot.request import AudioAttachment
from bot.services import Services
from handlers.commands import offered_rows
from handlers.transcribir import duration, transcript_reply
from tests.audio_clips import encode, tone
from tests.handlers.conftest import Chat, MakeServices, button_data, plain, requests_of

RATE = 48_000


@pytest.fixture
async def services(make_services: MakeServices) -> Services:
    """Short caps: random weights talk until stopped; a 20 s limit keeps long clips small."""
    return await make_services(
        generation_transcribe={"max_new_tokens": 8}, max_audio_seconds=20, max_audio_bytes=500_000
    )


def voice(seconds: float = 2.0, **fields: object) -> AudioAttachment:
    """A voice note as Telegram sends it: OGG/Opus."""
    data = encode(tone(seconds, RATE), RATE)
    return AudioAttachment(**{"data": data, "mime": "audio/ogg", "duration": seconds, **fields})


async def test_a_voice_note_comes_back_as_a_transcript_with_the_action_buttons(
    chat: Chat,
) -> None:
    reply = await chat.command("transcribir", audio=voice())
    assert plain(reply).startswith("🎙️ Transcripción:")
    assert len(reply.parts) == 1  # one message, the buttons under the transcript
    offered = button_data(reply)
    assert len(offered) == sum(len(row) for row in offered_rows())
    assert requests_of(chat.services, "transcribe") == 1
    # The transcript is saved like a typed text: a button runs on it.
    pressed = await chat.press(next(d for d in offered if d.startswith("sentimiento:")))
    assert texts.ERROR_EXPIRED_BUTTON not in plain(pressed)


@pytest.mark.parametrize("fmt, codec", [("mp3", "libmp3lame"), ("mp4", "aac")])
async def test_audio_files_and_video_notes_are_transcribed_too(
    chat: Chat, fmt: str, codec: str
) -> None:
    data = encode(tone(3, 44_100), 44_100, fmt, codec)
    reply = await chat.command("transcribir", audio=AudioAttachment(data, f"audio/{fmt}", 3))
    assert plain(reply).startswith("🎙️ Transcripción:")


async def test_without_audio_the_command_explains_itself(chat: Chat, group: Chat) -> None:
    for where in (chat, group):
        reply = await where.command("transcribir")
        assert plain(reply).startswith("Uso: /transcribir respondiendo a una nota de voz")


async def test_a_note_declared_too_long_is_refused_before_decoding(chat: Chat) -> None:
    reply = await chat.command("transcribir", audio=voice(2, duration=25.0))
    assert plain(reply) == html(
        texts.ERROR_AUDIO_TOO_LONG.format(seconds="25 segundos", limit="20 segundos")
    )
    assert requests_of(chat.services, "transcribe") == 0


async def test_a_note_longer_than_it_says_is_stopped_while_decoding(chat: Chat) -> None:
    # Two chained OGG streams declare no length anywhere: decoding stops at the cap.
    data = encode(tone(12, RATE), RATE) + encode(tone(12, RATE), RATE)
    reply = await chat.command("transcribir", audio=AudioAttachment(data, "audio/ogg", 0.0))
    assert plain(reply) == html(texts.ERROR_AUDIO_OVER_LIMIT.format(limit="20 segundos"))
    assert requests_of(chat.services, "transcribe") == 0


async def test_a_file_over_the_size_cap_is_refused(chat: Chat) -> None:
    reply = await chat.command("transcribir", audio=AudioAttachment(error="too_big"))
    assert plain(reply) == html(texts.ERROR_AUDIO_TOO_BIG.format(limit_mb=1))
    big = AudioAttachment(b"\x00" * 600_000, "audio/ogg", 2)
    assert plain(await chat.command("transcribir", audio=big)) == plain(reply)


@pytest.mark.parametrize(
    "data",
    [b"", b"OggS" + bytes(200), np.random.default_rng(5).bytes(4000), b"ID3\x03" + bytes(64)],
    ids=["empty", "ogg header only", "random bytes", "mp3 tag only"],
)
async def test_corrupt_audio_gets_a_clear_message(chat: Chat, data: bytes) -> None:
    reply = await chat.command("transcribir", audio=AudioAttachment(data, "audio/ogg", 2))
    assert plain(reply) == html(texts.ERROR_AUDIO_UNREADABLE)
    assert requests_of(chat.services, "transcribe") == 0


async def test_a_failed_download_is_said_so(chat: Chat) -> None:
    reply = await chat.command("transcribir", audio=AudioAttachment(error="download"))
    assert plain(reply) == html(texts.ERROR_AUDIO_DOWNLOAD)


async def test_silence_has_nothing_to_transcribe(chat: Chat) -> None:
    silent = encode(np.zeros(2 * RATE, np.float32), RATE)
    reply = await chat.command("transcribir", audio=AudioAttachment(silent, "audio/ogg", 2))
    assert plain(reply) == html(texts.TRANSCRIPT_EMPTY)
    assert not chat.services.engine.status().models["transcribe"].loaded


async def test_a_language_other_than_spanish_is_named(services: Services) -> None:
    english = await transcript_reply(100, Transcription("Hello <there>", "en", 1), services)
    assert plain(english).splitlines()[:2] == [
        "🎙️ Transcripción: Hello <there>",
        "Idioma detectado: inglés.",
    ]
    spanish = await transcript_reply(100, Transcription("Hola", "es", 1), services)
    assert "Idioma detectado" not in plain(spanish)


def test_durations_read_as_spoken() -> None:
    assert [duration(s) for s in (0.2, 45, 60, 61, 300, 370.4)] == [
        "1 segundo",
        "45 segundos",
        "1 minuto",
        "1 minuto y 1 segundo",
        "5 minutos",
        "6 minutos y 10 segundos",
    ]


def html(text: str) -> str:
    """What the user reads of one of our texts."""
    from bot.formatting import html_to_plain

    return html_to_plain(text)
