"""Audio made in the tests: Spanish speech from espeak-ng, encoded as Telegram sends it."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng is not installed (apt-get install espeak-ng)"
)


def spoken_wav(text: str, folder: Path) -> bytes:
    """A WAV file of espeak-ng saying `text` in Spanish."""
    assert ESPEAK is not None
    path = folder / "speech.wav"
    subprocess.run([ESPEAK, "-v", "es", "-w", str(path), text], check=True, timeout=60)
    return path.read_bytes()


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples and the rate of a 16-bit PCM WAV file."""
    with wave.open(io.BytesIO(data)) as reader:
        rate = reader.getframerate()
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0, rate


def tone(seconds: float, rate: int = 48_000, hz: float = 220.0) -> np.ndarray:
    """A quiet sine tone, for clips whose content does not matter."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def encode(samples: np.ndarray, rate: int, fmt: str = "ogg", codec: str = "libopus") -> bytes:
    """Mono float samples encoded with PyAV: OGG/Opus (a voice note), MP3, or MP4/AAC."""
    out_rate = 48_000 if codec == "libopus" else rate
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=out_rate)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples.reshape(1, -1)), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        for converted in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
