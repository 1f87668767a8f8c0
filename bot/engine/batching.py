"""Micro-batching: one queue per model that merges features from many requests into one forward."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine.tasks.base import Feature, LoadedModel, Task
from bot.engine.worker import DeviceWorker

log = logging.getLogger(__name__)

GroupKey = tuple[tuple[str, Hashable], ...]


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
        self._drainer: asyncio.Task[None] | None = None

    async def submit(
        self, features: list[Feature], params: Mapping[str, Hashable], timings: Any = None
    ) -> list[Any]:
        """Queue features and wait for their raw outputs, in order.

        `timings` (anything with `queue_wait_s` and `inference_s`) gets this call's share.
        """
        if not features:
            return []
        loop = asyncio.get_running_loop()
        group: GroupKey = tuple(sorted(params.items()))
        now = time.perf_counter()
        items = [_Item(f, group, loop.create_future(), now) for f in features]
        self._items.extend(items)
        self._changed.set()
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        raws = list(await asyncio.gather(*(item.future for item in items)))
        if timings is not None:
            first = min(it.started for it in items)
            timings.queue_wait_s += first - now
            timings.inference_s += max(it.finished for it in items) - first
        return raws

    def _take_batch(self) -> list[_Item]:
        """The oldest item plus the compatible items nearest to it in length."""
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
        for it; a lone request (nothing arriving) never waits.
        """
        deadline = time.perf_counter() + self.burst_wait_s
        while self.arriving > 0 and len(self._items) < self.max_size:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)
            except TimeoutError:
                return

    async def _drain(self) -> None:
        while self._items:
            async with self.worker.lock:
                await self._gather_burst()
                if not self._items:
                    break
                batch = self._take_batch()
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

    async def _run(self, batch: list[_Item], retry: bool = True) -> None:
        """Forward a batch; on failure retry once in halves, so one bad row fails alone."""
        live = [it for it in batch if not it.future.done()]
        if not live:
            return
        try:
            raws = await self.worker.call(
                self.task.forward, self.lm, [it.feature for it in live], dict(live[0].group)
            )
        except Exception as exc:
            if not retry or len(live) == 1:
                log.warning("forward of %d failed for %s: %r", len(live), self.lm.key, exc)
                for it in live:
                    if not it.future.done():
                        it.future.set_exception(exc)
                return
            log.warning(
                "forward of %d failed for %s (%r); retrying in halves", len(live), self.lm.key, exc
            )
            _release_cuda_cache(self.lm)
            half = len(live) // 2
            await self._run(live[:half], retry=False)
            await self._run(live[half:], retry=False)
            return
        for it, raw in zip(live, raws, strict=True):
            if not it.future.done():
                it.future.set_result(raw)

    def fail_all(self, exc: BaseException) -> None:
        """Answer everything still queued (used on shutdown)."""
        for it in self._items:
            if not it.future.done():
                it.future.set_exception(exc)
        self._items.clear()


def _release_cuda_cache(lm: LoadedModel) -> None:
    if lm.device.type == "cuda":
        import torch

        torch.cuda.empty_cache()
