"""Voice notes over the local Bot API server, as a phone sends them: OGG/Opus via getFile.

The speech is made here by espeak-ng and encoded with PyAV; the tiny Whisper's words are
random, so the tests pin the shape of the answers: the transcript heading and its buttons, the
length and error messages, and silence in a group until someone asks with /transcribir.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot import texts
from bot.config import Settings
from bot.formatting import html_to_plain
from handlers.commands import offered_rows
from tests.audio_clips import ESPEAK, encode, spoken_wav, tone, wav_samples
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.conftest import ANA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec

TRANSCRIPT_HEAD = "🎙️ Transcripción:"
LIMIT_SECONDS = 20


@pytest.fixture
async def tg(make_settings: Callable[..., Settings]) -> AsyncIterator[TelegramHarness]:
    """The bot with a 20 s cap and short transcripts (random weights talk until stopped)."""
    async with BotApiServer() as server:
        harness = TelegramHarness(server, make_settings)
        await harness.start(
            max_audio_seconds=LIMIT_SECONDS, generation_transcribe={"max_new_tokens": 8}
        )
        try:
            yield harness
        finally:
            await harness.stop()


@pytest.fixture(scope="module")
def spoken_note(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """espeak-ng saying a Spanish sentence, as a Telegram voice note (OGG/Opus)."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder: Path = tmp_path_factory.mktemp("speech")
    samples, rate = wav_samples(spoken_wav("Hola, esto es una nota de voz para Tertulia.", folder))
    return encode(samples, rate)


def buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


async def test_a_spoken_voice_note_gets_its_transcript_and_the_action_buttons(
    tg: TelegramHarness, ana_chat: ChatSpec, spoken_note: bytes
) -> None:
    [reply] = await tg.say(ana_chat, ANA, "", voice=(spoken_note, "audio/ogg", 3))
    assert reply["plain_text"].startswith(TRANSCRIPT_HEAD), reply["plain_text"]
    offered = buttons(reply)
    assert len(offered) == sum(len(row) for row in offered_rows())
    # The transcript is the text the buttons work on.
    summarise = next(data for data in offered if data.startswith("resumir:"))
    [summary] = await tg.press(ana_chat, ANA, reply["message_id"], summarise)
    assert html_to_plain(texts.ERROR_EXPIRED_BUTTON) not in summary["plain_text"]


async def test_audio_over_the_cap_gets_the_length_message(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    long_note = encode(tone(LIMIT_SECONDS + 5), 48_000)
    [declared] = await tg.say(ana_chat, ANA, "", voice=(long_note, "audio/ogg", LIMIT_SECONDS + 5))
    [hidden] = await tg.say(ana_chat, ANA, "", voice=(long_note, "audio/ogg", 1))
    for reply in (declared, hidden):
        assert reply["plain_text"].startswith("🎙️ El audio dura 25 segundos"), reply["plain_text"]
        assert "20 segundos" in reply["plain_text"]
    assert tg.bot is not None  # and no model was loaded for either
    assert not tg.bot.services.engine.status().models["transcribe"].loaded


@pytest.mark.parametrize(
    "data",
    [encode(tone(3), 48_000)[:300], np.random.default_rng(3).bytes(3000)],
    ids=["cut OGG", "random bytes"],
)
async def test_a_corrupt_audio_file_gets_a_clear_error(
    tg: TelegramHarness, ana_chat: ChatSpec, data: bytes
) -> None:
    [reply] = await tg.say(ana_chat, ANA, "", voice=(data, "audio/ogg", 3))
    assert reply["plain_text"] == html_to_plain(texts.ERROR_AUDIO_UNREADABLE)


async def test_in_a_group_only_transcribir_in_reply_transcribes(
    tg: TelegramHarness, group: ChatSpec
) -> None:
    note = encode(tone(2), 48_000)
    update = tg.server.user_sends(group, ANA, "", voice=(note, "audio/ogg", 2))
    [reply] = await tg.say(group, ANA, "/transcribir", reply_to=update["message"]["message_id"])
    assert reply["plain_text"].startswith(TRANSCRIPT_HEAD), reply["plain_text"]
    assert len(tg.server.messages(group.id)) == 1  # the voice note alone got nothing
    [usage] = await tg.say(group, ANA, "/transcribir")
    assert usage["plain_text"].startswith("Uso: /transcribir")
