"""Decoding what phones send (OGG/Opus voice notes, MP3, MP4) to 16 kHz mono, with PyAV."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from bot.audio import SAMPLING_RATE, AudioError, decode_audio
from tests.audio_clips import encode, tone

SECOND = SAMPLING_RATE


@pytest.mark.parametrize(
    ("fmt", "codec", "rate"),
    [("ogg", "libopus", 48_000), ("mp3", "libmp3lame", 44_100), ("mp4", "aac", 44_100)],
    ids=["voice note (OGG/Opus)", "audio file (MP3)", "video note sound (MP4/AAC)"],
)
def test_each_format_decodes_to_16_khz_mono_float32(fmt: str, codec: str, rate: int) -> None:
    clip = decode_audio(encode(tone(2.0, rate), rate, fmt, codec), max_seconds=60)
    assert clip.dtype == np.float32 and clip.ndim == 1
    assert abs(len(clip) / SECOND - 2.0) < 0.15  # encoders pad a few milliseconds
    assert 0.1 < float(np.max(np.abs(clip))) <= 1.0  # the tone, at about its level


def test_the_tone_keeps_its_pitch_through_the_resampler() -> None:
    clip = decode_audio(encode(tone(1.0, 48_000, hz=440.0), 48_000), max_seconds=60)
    middle = clip[SECOND // 4 : 3 * SECOND // 4]
    spectrum = np.abs(np.fft.rfft(middle))
    peak_hz = np.argmax(spectrum) * SECOND / len(middle)
    assert abs(peak_hz - 440.0) < 5.0


def test_a_clip_declared_longer_than_the_cap_is_refused_before_decoding() -> None:
    with pytest.raises(AudioError) as raised:
        decode_audio(encode(tone(12.0), 48_000), max_seconds=10)
    assert raised.value.problem == "too_long" and raised.value.seconds > 10


def test_a_clip_with_no_declared_length_stops_at_the_cap() -> None:
    # Two OGG streams chained in one file: FFmpeg declares no duration, only decoding tells.
    data = encode(tone(4.0), 48_000) + encode(tone(8.0), 48_000)
    with av.open(io.BytesIO(data)) as container:
        assert container.duration is None
    assert abs(len(decode_audio(data, max_seconds=60)) / SECOND - 12.0) < 0.15
    with pytest.raises(AudioError) as raised:
        decode_audio(data, max_seconds=10)
    assert (raised.value.problem, raised.value.seconds) == ("too_long", 0.0)  # "over", no more


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hola, esto no es audio",
        np.random.default_rng(7).bytes(5000),
        b"OggS" + bytes(100),
        encode(tone(2.0), 48_000)[:120],
    ],
    ids=["empty", "text", "random bytes", "OGG magic only", "cut after the header"],
)
def test_anything_unreadable_is_one_clear_problem(data: bytes) -> None:
    with pytest.raises(AudioError) as raised:
        decode_audio(data, max_seconds=60)
    assert raised.value.problem == "unreadable"


def test_a_file_without_a_sound_track_says_so() -> None:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(AudioError) as raised:
        decode_audio(buffer.getvalue(), max_seconds=60)
    assert raised.value.problem == "no_audio"
