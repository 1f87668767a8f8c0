"""Where one request's model work spent its time, for the per-request log line.

A context variable, so concurrent requests never see each other's figures.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RunTimings:
    """Where one `run` spent its time."""

    task: str = ""
    model: str = ""
    queue_wait_s: float = 0.0
    inference_s: float = 0.0


_timings: ContextVar[RunTimings | None] = ContextVar("tertulia_run_timings", default=None)


def reset_timings() -> None:
    """Forget earlier runs' timings in this context (a new request starts)."""
    _timings.set(None)


def start_timings(task: str, model: str) -> RunTimings:
    """Timings for a run that starts now in this context."""
    timings = RunTimings(task=task, model=model)
    _timings.set(timings)
    return timings


def last_timings() -> RunTimings | None:
    """Timings of the latest run awaited in this context (None if none ran)."""
    return _timings.get()
