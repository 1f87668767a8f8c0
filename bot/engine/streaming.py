"""Partial results while a forward runs, routed per row to the request that owns the row.

A forward batches rows of many requests and runs on the device thread. When the caller of a
run listens (`bot.progress.growing`), each of its features carries a `RowStream`; the forward
(or the generation loop, through `BatchStreamer`) hands each row's output so far to it. The
request's `PartialStream` gathers them, hops to the event loop, words them with the task's
`partial` on the tokenizer thread (tokenizers stay off the device thread) and calls the
listener with each input's newer partial result, in order, at most every STREAM_EVERY_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from transformers.generation.streamers import BaseStreamer

from bot.progress import PartialListener, partial_listener

if TYPE_CHECKING:
    from bot.engine.tasks.base import Feature, Task, TaskContext

log = logging.getLogger(__name__)

STREAM_EVERY_S = 0.25
"""Adapters show at most one partial a second; wording them more often is wasted work."""
STREAM_KEY = "stream"
"""The key of a feature's RowStream in its ``meta``."""


class PartialStream:
    """One request's partial results: rows in from any thread, results out on the loop."""

    def __init__(
        self,
        listener: PartialListener,
        word: Callable[[list[Any | None]], Any],
        rows: int,
        places: list[int] | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.listener = listener
        self.word = word  # async: the rows so far -> each input's partial result or None
        self.places = places  # input index -> the caller's index (a round of a longer run)
        self._raws: list[Any | None] = [None] * rows
        self._lock = threading.Lock()
        self._pending = False
        self._closed = False
        self._last: dict[int, Any] = {}
        self._task: asyncio.Task[None] | None = None

    def update(self, row: int, raw: Any) -> None:
        """A row's output so far (or its whole output); callable from any thread."""
        with self._lock:
            if self._closed:
                return
            self._raws[row] = raw
            if self._pending:
                return
            self._pending = True
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody listens
            self.loop.call_soon_threadsafe(self._wake)

    def close(self) -> None:
        """No more partial results: the final ones are on their way."""
        with self._lock:
            self._closed = True
        if self._task is not None:
            self._task.cancel()

    def _wake(self) -> None:
        if not self._closed and (self._task is None or self._task.done()):
            self._task = self.loop.create_task(self._deliver(), name="partial-results")

    async def _deliver(self) -> None:
        """Word the newest rows and tell the listener, until no row changes any more."""
        while True:
            with self._lock:
                snapshot = list(self._raws)
                self._pending = False
            try:
                results = await self.word(snapshot)
            except Exception:
                log.exception("could not word a partial result")
                return
            if self._closed:
                return
            for index, result in enumerate(results):
                if result is None or self._last.get(index) == result:
                    continue
                self._last[index] = result
                place = self.places[index] if self.places is not None else index
                try:
                    self.listener(place, result)
                except Exception:
                    log.exception("a partial-result listener failed")
            await asyncio.sleep(STREAM_EVERY_S)
            with self._lock:
                if not self._pending or self._closed:
                    return


class RowStream:
    """One feature's way back to its request's PartialStream."""

    def __init__(self, stream: PartialStream, row: int) -> None:
        self.stream = stream
        self.row = row

    def update(self, raw: Any) -> None:
        self.stream.update(self.row, raw)


def row_stream(feature: Feature) -> RowStream | None:
    """The stream a feature's output so far goes to, if its request listens."""
    stream = feature.meta.get(STREAM_KEY)
    return stream if isinstance(stream, RowStream) else None


@contextlib.contextmanager
def streaming(
    ctx: TaskContext,
    task: Task,
    inputs: list[Any],
    features: list[Feature],
    params: Mapping[str, Any],
    places: list[int] | None = None,
) -> Iterator[None]:
    """Route the partial outputs of the forward run inside to the caller's listener, if any.

    Call it on the event loop, in the caller's context (where `growing` was entered).
    """
    listener = partial_listener()
    if listener is None or not task.grows or not features:
        yield
        return

    async def word(raws: list[Any | None]) -> list[Any | None]:
        return await ctx.prepare(task.partial, ctx.lm, inputs, features, raws, params)

    stream = PartialStream(listener, word, len(features), places)
    for row, feature in enumerate(features):
        feature.meta[STREAM_KEY] = RowStream(stream, row)
    try:
        yield
    finally:
        stream.close()
        for feature in features:
            feature.meta.pop(STREAM_KEY, None)


def report_rows(features: list[Feature], raws: list[Any]) -> None:
    """Each finished row's output to its request (chunk by chunk partial results)."""
    for feature, raw in zip(features, raws, strict=False):
        if (stream := row_stream(feature)) is not None:
            stream.update(raw)


class BatchStreamer(BaseStreamer):  # type: ignore[misc]
    """transformers' streamer for a whole batch: each step's token goes to its row's request.

    ``generate`` first puts the prompt ids, then each step's new token of every row; a row
    ends at its first stop id (what follows is padding). Runtimes without ``generate``'s
    streamer call ``add`` themselves.
    """

    def __init__(self, streams: list[RowStream | None], stop_ids: set[int]) -> None:
        self.streams = streams
        self.stop_ids = stop_ids
        self.ids: list[list[int]] = [[] for _ in streams]
        self.ended = [False] * len(streams)
        self._prompt_seen = False

    @classmethod
    def for_features(cls, features: list[Feature], stop_ids: set[int]) -> BatchStreamer | None:
        """A streamer for these rows, or None when no row's request listens."""
        streams = [row_stream(feature) for feature in features]
        return cls(streams, stop_ids) if any(streams) else None

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # the prompt ids come first: nothing new yet
            self._prompt_seen = True
            return
        for row, token in enumerate(value.reshape(-1).tolist()[: len(self.streams)]):
            self.add(row, int(token))

    def add_for(self, row: int) -> Callable[[int], None]:
        """``add`` for one row: what a runtime's per-step callback calls."""
        return lambda token: self.add(row, token)

    def add(self, row: int, token: int) -> None:
        """One new token of a row."""
        if self.ended[row]:
            return
        if token in self.stop_ids:
            self.ended[row] = True
            return
        self.ids[row].append(token)
        if (stream := self.streams[row]) is not None:
            stream.update(list(self.ids[row]))

    def end(self) -> None:
        """Nothing to flush: every token went out as it came."""
