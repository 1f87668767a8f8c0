"""Voice notes, audio files and video notes decoded to 16 kHz mono float32, with PyAV.

PyAV bundles FFmpeg's libraries, so OGG/Opus voice notes, MP3/M4A audio and MP4 video notes
decode with no external binary. Decoding stops as soon as the clip passes the length cap, so a
long (or maliciously long) file costs at most the cap's worth of work and memory. Blocking:
call it off the event loop.
"""

from __future__ import annotations

import io
import logging
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

SAMPLING_RATE = 16_000
"""What Whisper was trained on."""

Problem = Literal["unreadable", "no_audio", "too_long"]


class AudioError(Exception):
    """A clip that cannot be transcribed; ``problem`` names why (worded in bot/texts.py).

    ``seconds`` is the clip's declared length when that is what was too long, else 0.
    """

    def __init__(self, problem: Problem, seconds: float = 0.0) -> None:
        super().__init__(problem)
        self.problem: Problem = problem
        self.seconds = seconds


def decode_audio(data: bytes, max_seconds: float) -> np.ndarray:
    """The clip's first audio stream as 16 kHz mono float32 samples; raises AudioError."""
    try:
        return _decode(data, max_seconds)
    except AudioError:
        raise
    except Exception as exc:  # any failure inside FFmpeg or PyAV means: we cannot read it
        log.info("unreadable audio (%d bytes): %s: %s", len(data), type(exc).__name__, exc)
        raise AudioError("unreadable") from exc


def _decode(data: bytes, max_seconds: float) -> np.ndarray:
    import av
    from av.audio.resampler import AudioResampler

    limit = int(max_seconds * SAMPLING_RATE)
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise AudioError("no_audio")
        if container.duration is not None and container.duration / av.time_base > max_seconds:
            raise AudioError("too_long", container.duration / av.time_base)
        resampler = AudioResampler(format="flt", layout="mono", rate=SAMPLING_RATE)
        pieces: list[np.ndarray] = []
        total = 0
        for frame in container.decode(stream):
            if not isinstance(frame, av.AudioFrame):
                continue
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1)
                pieces.append(samples)
                total += samples.size
                if total > limit:  # its real length is unknown: only that it is over
                    raise AudioError("too_long")
        pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    if not pieces or not sum(p.size for p in pieces):
        raise AudioError("unreadable")
    clip = np.concatenate(pieces).astype(np.float32, copy=False)[:limit]
    if not np.isfinite(clip).all():
        raise AudioError("unreadable")
    return clip
