"""/transcribir: a voice note, audio file or video note in words, with the usual buttons.

In a private chat every voice note comes here by itself; in a group only when someone answers
one with /transcribir (the adapter attaches the replied-to audio). The length cap is checked
twice before any model runs: on the length the sender's app declares, and while decoding,
which stops at the cap. The transcript is saved like a typed text, so Traducir, Resumir,
Sentimiento... work on it.
"""

from __future__ import annotations

import asyncio

from bot import texts
from bot.audio import AudioError, decode_audio
from bot.engine.results import AudioInput, Transcription
from bot.formatting import escape
from bot.request import AudioAttachment, Reply, Request
from bot.services import Services
from handlers.arguments import usage
from handlers.texto import offer_actions


async def handle(request: Request, services: Services) -> Reply:
    """Checks, decodes and transcribes the attached audio; or explains how to ask."""
    audio = request.audio
    if audio is None:
        return usage("transcribir")
    if problem := audio_problem(audio, services):
        return problem
    limit = services.settings.max_audio_seconds
    try:
        samples = await asyncio.to_thread(decode_audio, audio.data, limit)
    except AudioError as exc:
        return error_reply(exc, limit)
    [result] = await services.engine.run("transcribe", [AudioInput(samples)])
    return await transcript_reply(request.chat_id, result, services)


def audio_problem(audio: AudioAttachment, services: Services) -> Reply | None:
    """What is wrong with the file before it is even decoded: too big, or declared too long."""
    settings = services.settings
    if audio.error == "too_big" or len(audio.data) > settings.max_audio_bytes:
        limit_mb = max(1, settings.max_audio_bytes // 1_000_000)
        return Reply.text(texts.ERROR_AUDIO_TOO_BIG.format(limit_mb=limit_mb))
    if audio.error is not None:
        return Reply.text(texts.ERROR_AUDIO_DOWNLOAD)
    if audio.duration > settings.max_audio_seconds:
        return too_long(audio.duration, settings.max_audio_seconds)
    return None


def error_reply(exc: AudioError, limit: int) -> Reply:
    """The Spanish words for a clip that could not be decoded."""
    if exc.problem == "too_long":
        return too_long(exc.seconds, limit)
    if exc.problem == "no_audio":
        return Reply.text(texts.ERROR_AUDIO_NO_SOUND)
    return Reply.text(texts.ERROR_AUDIO_UNREADABLE)


def too_long(seconds: float, limit: int) -> Reply:
    """The length message, before any model runs; `seconds` 0 when only "over" is known."""
    if seconds <= limit:
        return Reply.text(texts.ERROR_AUDIO_OVER_LIMIT.format(limit=duration(limit)))
    return Reply.text(
        texts.ERROR_AUDIO_TOO_LONG.format(seconds=duration(seconds), limit=duration(limit))
    )


def duration(seconds: float) -> str:
    """ "45 segundos", "5 minutos", "6 minutos y 10 segundos"."""
    whole = max(1, round(seconds))
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return texts.SECONDS.count(rest)
    if not rest:
        return texts.MINUTES.count(minutes)
    return f"{texts.MINUTES.count(minutes)} y {texts.SECONDS.count(rest)}"


async def transcript_reply(chat_id: int, result: Transcription, services: Services) -> Reply:
    """The transcript, the language when it is not Spanish, and the actions' buttons."""
    text = result.text.strip()
    if not text:
        return Reply.text(texts.TRANSCRIPT_EMPTY)
    reply = await offer_actions(chat_id, text, services)
    lines = [texts.TRANSCRIPT.format(text=escape(text))]
    if result.language and result.language != "es":
        name = texts.LANGUAGE_NAMES.get(result.language, result.language)
        lines.append(texts.TRANSCRIPT_LANGUAGE.format(language=escape(name)))
    # One message, the buttons under it: the transcript, then "what do I do with it?".
    reply.parts = ["\n".join(lines) + "\n\n" + "\n".join(reply.parts)]
    return reply
