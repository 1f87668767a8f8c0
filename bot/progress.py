"""Progress while a request runs: a channel from deep inside (the engine) to the adapter.

The adapter that serves a request installs a sink with `reporting_to`; code further down calls
`show(text)` on `current_sink()`: the engine while it fetches a model for its first use, and
any handler whose answer grows. Telegram renders it as one message edited in place, the console
as one updating line; the answer replaces it. Texts are Telegram HTML like a Reply's parts, and
sinks are only called on the event loop's thread.

An answer that grows as it is written is not progress: a handler wraps its engine run in
`growing(render)`, the engine hands each partial result to that listener, and a sink that can
`grow` shows the rendered text where the answer will be, which then becomes the answer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot import texts

log = logging.getLogger(__name__)

BAR_WIDTH = 10


class ProgressSink(Protocol):
    """Where a request's progress goes; each `show` replaces what was shown before."""

    def show(self, text: str) -> None: ...


_current: ContextVar[ProgressSink | None] = ContextVar("progress_sink", default=None)


def current_sink() -> ProgressSink | None:
    """The sink of the request this code runs for, if its adapter installed one."""
    return _current.get()


@contextlib.contextmanager
def reporting_to(sink: ProgressSink | None) -> Iterator[None]:
    """Send the progress of everything run inside (tasks and threads it starts too) to `sink`."""
    token = _current.set(sink)
    try:
        yield
    finally:
        _current.reset(token)


@runtime_checkable
class GrowingSink(ProgressSink, Protocol):
    """A sink that can also show an answer as it is written: the newest partial text."""

    def grow(self, text: str) -> None: ...


PartialListener = Callable[[int, Any], None]
"""Called with an input's index and its result so far, on the event loop's thread."""

_partials: ContextVar[PartialListener | None] = ContextVar("partial_results", default=None)


def partial_listener() -> PartialListener | None:
    """Who wants the partial results of the engine run this code does, if anyone."""
    return _partials.get()


@contextlib.contextmanager
def growing(render: Callable[[Any], str]) -> Iterator[None]:
    """Show the first input's partial results of engine runs inside as the answer growing.

    `render` words a partial result as the final reply's first part would (Telegram HTML);
    without a sink that can grow (the Ray backend streams nothing either) it changes nothing.
    """
    sink = current_sink()
    if not isinstance(sink, GrowingSink):
        yield
        return

    def listen(index: int, result: Any) -> None:
        if index == 0 and (text := render(result)).strip():
            sink.grow(text)

    token = _partials.set(listen)
    try:
        yield
    finally:
        _partials.reset(token)


class FanOut:
    """One progress shown to every request waiting for the same thing (a model's first load).

    A sink that joins late sees the latest text at once; a failing sink never stops the others.
    """

    def __init__(self) -> None:
        self.sinks: list[ProgressSink] = []
        self.last: str | None = None

    def add(self, sink: ProgressSink | None) -> None:
        if sink is None or any(s is sink for s in self.sinks):
            return
        self.sinks.append(sink)
        if self.last is not None:
            self._show(sink, self.last)

    def show(self, text: str) -> None:
        self.last = text
        for sink in list(self.sinks):
            self._show(sink, text)

    @staticmethod
    def _show(sink: ProgressSink, text: str) -> None:
        try:
            sink.show(text)
        except Exception:
            log.exception("a progress sink failed")


@dataclass(frozen=True)
class ModelFetch:
    """A task's model on its way from the hub before its first use; 0 bytes means unknown."""

    task: str
    model_id: str
    done_bytes: int = 0
    total_bytes: int = 0

    @property
    def fraction(self) -> float:
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else 0.0


def fetch_notice(event: ModelFetch) -> str:
    """The user's words for a model fetch: what is happening, its size, how far it got."""
    task = texts.TASK_NAMES.get(event.task, event.task)
    if not event.total_bytes:
        return texts.MODEL_PREPARING.format(task=task)
    from bot.status_view import megabytes

    notice = texts.MODEL_PREPARING_SIZE.format(task=task, size=megabytes(event.total_bytes))
    if not event.done_bytes:
        return notice
    done = texts.MODEL_DOWNLOADED.format(
        bar=progress_bar(event.fraction), percent=int(event.fraction * 100)
    )
    return f"{notice}\n{done}"


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """`███░░░░░░░` for 0.3: readable in a chat and in a terminal alike."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)
