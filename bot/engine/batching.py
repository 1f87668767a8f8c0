"""Micro-batching: one queue per model that merges features from many requests into one forward."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bot.engine.errors import EngineClosed, EngineError, InferenceFailed
from bot.engine.tasks.base import Feature, LoadedModel, Task
from bot.engine.worker import DeviceWorker

log = logging.getLogger(__name__)

GroupKey = tuple[tuple[str, Hashable], ...]
# An error for a waiting caller, or a factory that makes a fresh one per caller.
ErrorFor = BaseException | Callable[[], BaseException]
BURST_CAP = 10
"""A burst is gathered for at most this many batch waits (BATCH_WAIT_MS) in all."""


@dataclass
class _Item:
    feature: Feature
    group: GroupKey
    future: asyncio.Future[Any]
    enqueued: float
    started: float = 0.0
    finished: float = 0.0


@dataclass
class QueueStats:
    """Counters reported by `Engine.status()`."""

    batches: int = 0
    items: int = 0
    forward_seconds: float = 0.0
    waits: deque[float] = field(default_factory=lambda: deque(maxlen=2000))

    def percentile_ms(self, q: float) -> float | None:
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


class ModelQueue:
    """Gathers features while the device is busy; runs them as batches when it frees up.

    A lone request runs at once. The oldest waiting feature always goes into the next batch,
    so nobody waits behind an endless stream; the rest of the batch is filled with features
    of equal parameters and the closest lengths, so padding stays small.
    """

    def __init__(
        self,
        task: Task,
        lm: LoadedModel,
        worker: DeviceWorker,
        max_size: int,
        max_tokens: int,
        burst_wait_s: float = 0.0,
    ) -> None:
        self.task = task
        self.burst_wait_s = burst_wait_s
        # Requests already running their task but still tokenising: the rest of a burst.
        self.arriving = 0
        self._changed = asyncio.Event()
        self.lm = lm
        self.worker = worker
        self.max_size = max_size
        self.max_tokens = max_tokens
        self.stats = QueueStats()
        self._items: list[_Item] = []
        self._running: list[_Item] = []
        self._drainer: asyncio.Task[None] | None = None
        self.closed = False

    async def submit(
        self, features: list[Feature], params: Mapping[str, Hashable], timings: Any = None
    ) -> list[Any]:
        """Queue features and wait for their raw outputs, in order.

        `timings` (anything with `queue_wait_s` and `inference_s`) gets this call's share.
        """
        if not features:
            return []
        if self.closed:
            raise EngineClosed(self.lm.key)
        loop = asyncio.get_running_loop()
        group: GroupKey = tuple(sorted(params.items()))
        now = time.perf_counter()
        items = [_Item(f, group, loop.create_future(), now) for f in features]
        self._items.extend(items)
        self._changed.set()
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        try:
            raws = list(await asyncio.gather(*(item.future for item in items)))
        except BaseException:
            for item in items:  # one feature failed: its siblings need not run
                item.future.cancel()
            raise
        if timings is not None:
            first = min(it.started for it in items)
            timings.queue_wait_s += first - now
            timings.inference_s += max(it.finished for it in items) - first
        return raws

    def _take_batch(self) -> list[_Item]:
        """The oldest item plus the compatible items nearest to it in length."""
        self._items = [it for it in self._items if not it.future.done()]
        if not self._items:
            return []
        anchor = self._items[0]
        peers = [it for it in self._items[1:] if it.group == anchor.group]
        peers.sort(key=lambda it: abs(it.feature.length - anchor.feature.length))
        batch = [anchor]
        longest = anchor.feature.length
        for it in peers:
            if len(batch) >= self.max_size:
                break
            width = max(longest, it.feature.length)
            if width * (len(batch) + 1) > self.max_tokens:
                continue
            batch.append(it)
            longest = width
        chosen = {id(it) for it in batch}
        self._items = [it for it in self._items if id(it) not in chosen]
        return batch

    def expect(self) -> None:
        """A request started its task: its features will come soon."""
        self.arriving += 1

    def arrived(self) -> None:
        """A request submitted its first features, or finished without any."""
        self.arriving -= 1
        self._changed.set()

    async def _gather_burst(self) -> None:
        """Wait briefly for a burst's other requests that are still tokenising.

        Without it the first request of a burst runs alone and the rest wait a whole forward
        for it. The wait restarts with each request that arrives, so a burst that takes longer
        to tokenise than one wait (32 chats at once: 15-30 ms on one tokeniser thread) still
        shares one forward instead of being cut in two; it never exceeds ``BURST_CAP`` waits.
        A lone request (nothing arriving) never waits.
        """
        started = time.perf_counter()
        cap = started + BURST_CAP * self.burst_wait_s
        deadline = started + self.burst_wait_s
        seen = len(self._items)
        while self.arriving > 0 and len(self._items) < self.max_size:
            now = time.perf_counter()
            if len(self._items) > seen:
                seen = len(self._items)
                deadline = min(cap, now + self.burst_wait_s)
            if now >= deadline:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=deadline - now)
            except TimeoutError:
                return

    async def _drain(self) -> None:
        """Run batches until the queue is empty; every future gets an answer, whatever happens."""
        try:
            while self._items:
                async with self.worker.lock:
                    await self._gather_burst()
                    self._running = self._take_batch()
                    if not self._running:
                        break
                    try:
                        await self._run_timed(self._running)
                    except Exception as exc:
                        log.exception("batching failed for %s", self.lm.key)
                        self._fail(self._running, partial(self._failure, exc))
                    self._running = []
        except Exception as exc:
            # A fault in the scheduling itself: nothing here can be trusted to make progress.
            log.exception("the batch queue of %s stopped", self.lm.key)
            self._fail_everything(partial(self._failure, exc))
        finally:
            # Cancelled, closed or broken: whoever still waits gets an error, never silence.
            self._fail_everything(self._stopped)

    async def _run_timed(self, batch: list[_Item]) -> None:
        """Run one batch and record its waits and timings."""
        started = time.perf_counter()
        for it in batch:
            it.started = started
            self.stats.waits.append(started - it.enqueued)
        await self._run(batch)
        finished = time.perf_counter()
        for it in batch:
            it.finished = finished
        self.stats.batches += 1
        self.stats.items += len(batch)
        self.stats.forward_seconds += finished - started

    async def _run(self, batch: list[_Item]) -> None:
        """Forward a batch; if it raises, bisect it so only the rows that fail get the error.

        Each level halves the batch, so one bad row costs at most 2·log2(n) extra forwards.
        """
        live = [it for it in batch if not it.future.done()]
        if not live:
            return
        try:
            raws = await self.worker.call(
                self.task.forward, self.lm, [it.feature for it in live], dict(live[0].group)
            )
        except Exception as exc:
            if len(live) == 1:
                log.warning("forward of 1 failed for %s: %r", self.lm.key, exc)
                self._fail(live, exc)
                return
            log.warning("forward of %d failed for %s (%r); bisecting", len(live), self.lm.key, exc)
            _release_cuda_cache(self.lm)
            half = len(live) // 2
            await self._run(live[:half])
            await self._run(live[half:])
            return
        rows = list(raws)
        if len(rows) != len(live):
            # Rows cannot be matched to requests any more: the whole batch fails, as Ray Serve's.
            reason = f"forward returned {len(rows)} rows for {len(live)} features"
            log.error("%s: %s", self.lm.key, reason)
            self._fail(live, lambda: InferenceFailed(self.lm.key, self.lm.model_id, reason))
            return
        for it, raw in zip(live, rows, strict=True):
            if not it.future.done():
                it.future.set_result(raw)

    def close(self) -> None:
        """Refuse new work and answer everything queued or running with EngineClosed."""
        self.closed = True
        self._fail_everything(self._stopped)
        if self._drainer is not None:
            self._drainer.cancel()

    def _failure(self, exc: BaseException) -> InferenceFailed:
        return InferenceFailed(
            self.lm.key, self.lm.model_id, f"batching failed: {type(exc).__name__}: {exc}"
        )

    def _stopped(self) -> EngineError:
        if self.closed:
            return EngineClosed(self.lm.key)
        return InferenceFailed(self.lm.key, self.lm.model_id, "the batch queue was stopped")

    def _fail_everything(self, error: ErrorFor) -> None:
        self._fail(self._running, error)
        self._fail(self._items, error)
        self._running = []
        self._items = []

    @staticmethod
    def _fail(items: list[_Item], error: ErrorFor) -> None:
        """Answer each unanswered item with the error; a factory gives each caller its own."""
        for it in items:
            if not it.future.done():
                it.future.set_exception(error() if callable(error) else error)
                it.future.exception()  # mark retrieved: a caller that awaits still gets it


def _release_cuda_cache(lm: LoadedModel) -> None:
    if lm.device.type == "cuda":
        import torch

        torch.cuda.empty_cache()
