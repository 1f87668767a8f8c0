"""The model cache: lazy single-flight loads and least-recently-used eviction under a budget."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

import torch

from bot.engine.batching import ModelQueue
from bot.engine.downloads import fetch_model, in_daemon_thread
from bot.engine.errors import EngineClosed, ModelTooLarge, ModelUnavailable, NoMemoryForModel
from bot.engine.loading import load_model, model_bytes, release
from bot.engine.runtimes import RuntimePlan
from bot.engine.runtimes import estimate_bytes as runtime_estimate
from bot.engine.tasks.base import Task
from bot.engine.worker import DeviceWorker
from bot.progress import FanOut, ModelFetch, current_sink, fetch_notice

log = logging.getLogger(__name__)

# A failed load is not retried for this long, so a broken model does not cost every request.
FAILURE_COOLDOWN_S = 30.0
# How long a load waits for busy models to finish before the budget gives up.
EVICTION_WAIT_S = 60.0


@dataclass
class ModelSlot:
    """Everything the engine knows about one task's model, loaded or not."""

    key: str
    model_id: str
    task: Task
    queue: ModelQueue | None = None
    bytes: int = 0
    load_seconds: float = 0.0
    loads: int = 0
    last_used: float = 0.0
    inflight: int = 0
    requests: int = 0
    failures: int = 0
    last_error: str = ""
    failed_at: float | None = None
    failure: ModelUnavailable | None = None
    loading: asyncio.Future[None] | None = field(default=None, repr=False)
    # Which runtime runs it (bot/engine/runtimes); None is torch.
    plan: RuntimePlan | None = None
    # While a load runs: its progress, shown to every request waiting for it.
    progress: FanOut | None = field(default=None, repr=False)

    @property
    def loaded(self) -> bool:
        return self.queue is not None


class ModelCache:
    """Owns the loaded models; keeps their measured bytes under `budget_bytes` (0 = no limit)."""

    def __init__(
        self,
        worker: DeviceWorker,
        dtype: torch.dtype,
        budget_bytes: int,
        batch_max_size: int,
        batch_max_tokens: int,
        batch_wait_s: float = 0.0,
    ) -> None:
        self.worker = worker
        self.dtype = dtype
        self.budget = budget_bytes
        self.batch_max_size = batch_max_size
        self.batch_max_tokens = batch_max_tokens
        self.batch_wait_s = batch_wait_s
        self.slots: dict[str, ModelSlot] = {}
        self._load_lock = asyncio.Lock()
        self._released = asyncio.Condition()
        self.closed = False

    @property
    def used_bytes(self) -> int:
        return sum(s.bytes for s in self.slots.values() if s.loaded)

    def add(self, key: str, model_id: str, task: Task, plan: RuntimePlan | None = None) -> None:
        self.slots[key] = ModelSlot(key=key, model_id=model_id, task=task, plan=plan)

    async def acquire(self, key: str) -> ModelSlot:
        """The slot with its model loaded, marked busy until `release` is called."""
        slot = self.slots[key]
        while not slot.loaded:
            if self.closed:
                raise EngineClosed(key)
            if (
                slot.failure
                and slot.failed_at
                and (time.monotonic() - slot.failed_at < FAILURE_COOLDOWN_S)
            ):
                raise slot.failure
            if slot.loading is None:
                slot.loading = asyncio.get_running_loop().create_future()
                slot.progress = FanOut()
                slot.progress.add(current_sink())
                try:
                    await self._load(slot)
                    slot.loading.set_result(None)
                except BaseException as exc:
                    slot.loading.set_exception(exc)
                    slot.loading.exception()  # mark retrieved: waiters re-raise it themselves
                    raise
                finally:
                    slot.loading = None
                    slot.progress = None
            else:
                if slot.progress is not None:
                    slot.progress.add(current_sink())
                await asyncio.shield(slot.loading)
        slot.inflight += 1
        slot.last_used = time.monotonic()
        return slot

    async def release(self, slot: ModelSlot) -> None:
        slot.inflight -= 1
        slot.last_used = time.monotonic()
        async with self._released:
            self._released.notify_all()

    async def _load(self, slot: ModelSlot) -> None:
        source = await self._fetch(slot)  # outside the lock: other models load meanwhile
        async with self._load_lock:
            estimate = await asyncio.to_thread(
                runtime_estimate, slot.plan, slot.model_id, source, self.dtype
            )
            self._check_fits(slot, estimate)
            await self._make_room(slot, estimate)
            started = time.perf_counter()
            try:
                lm = await asyncio.to_thread(
                    load_model,
                    slot.task,
                    slot.key,
                    slot.model_id,
                    self.worker.device,
                    self.dtype,
                    source,
                    slot.plan,
                )
            except Exception as exc:
                error = ModelUnavailable(slot.key, slot.model_id, _reason(exc))
                self._record_failure(slot, error)
                log.error("could not load %s (%s): %s", slot.key, slot.model_id, error.reason)
                raise error from exc
            measured = model_bytes(lm.model)
            try:
                self._check_fits(slot, measured)
            except ModelTooLarge:
                release(lm)
                raise
            await self._make_room(slot, measured)
            if self.closed:  # closed while loading: nobody would drop this model again
                release(lm)
                raise EngineClosed(slot.key)
            slot.bytes = measured
            slot.load_seconds = time.perf_counter() - started
            slot.loads += 1
            slot.failure = slot.failed_at = None
            slot.queue = ModelQueue(
                slot.task,
                lm,
                self.worker,
                self.batch_max_size,
                self.batch_max_tokens,
                self.batch_wait_s,
            )
            log.info(
                "loaded %s (%s) on %s as %s: %.1f MB in %.2f s",
                slot.key,
                slot.model_id,
                lm.device,
                lm.runtime if lm.runtime != "torch" else lm.dtype,
                measured / 2**20,
                slot.load_seconds,
            )

    async def _fetch(self, slot: ModelSlot) -> str:
        """Where the model loads from; a hub model not on disk yet is downloaded, with progress."""
        loop = asyncio.get_running_loop()
        progress = slot.progress
        stop = threading.Event()

        def report(event: ModelFetch) -> None:  # called in the download's thread
            if progress is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                    loop.call_soon_threadsafe(progress.show, fetch_notice(event))

        try:
            return await in_daemon_thread(fetch_model, slot.key, slot.model_id, report, stop)
        except ModelUnavailable as error:
            self._record_failure(slot, error)
            log.error("could not load %s (%s): %s", slot.key, slot.model_id, error.reason)
            raise
        finally:
            stop.set()  # a download still running after a cancel gives up

    def _check_fits(self, slot: ModelSlot, needed: int) -> None:
        if self.budget and needed > self.budget:
            error = ModelTooLarge(slot.key, slot.model_id, needed, self.budget)
            self._record_failure(slot, error)
            raise error

    def _record_failure(self, slot: ModelSlot, error: ModelUnavailable) -> None:
        slot.failures += 1
        slot.last_error = error.reason
        slot.failure = error
        slot.failed_at = time.monotonic()

    async def _make_room(self, incoming: ModelSlot, needed: int) -> None:
        """Evict idle models, least recently used first, until `needed` more bytes fit."""
        if not self.budget:
            return
        deadline = time.monotonic() + EVICTION_WAIT_S
        while self.used_bytes + needed > self.budget:
            idle = [
                s for s in self.slots.values() if s.loaded and s.inflight == 0 and s is not incoming
            ]
            if idle:
                self.evict(min(idle, key=lambda s: s.last_used))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._no_memory(incoming, needed)
            async with self._released:
                try:
                    await asyncio.wait_for(self._released.wait(), timeout=remaining)
                except TimeoutError:
                    raise self._no_memory(incoming, needed) from None

    def _no_memory(self, incoming: ModelSlot, needed: int) -> NoMemoryForModel:
        """Busy models kept the memory for EVICTION_WAIT_S: transient, unlike ModelTooLarge."""
        free = max(0, self.budget - self.used_bytes)
        log.warning(
            "no memory for %s (%s): needs %d bytes, %d free",
            incoming.key,
            incoming.model_id,
            needed,
            free,
        )
        return NoMemoryForModel(incoming.key, incoming.model_id, needed, free)

    def close(self) -> None:
        """Refuse new loads, answer every queued request EngineClosed and drop idle models."""
        self.closed = True
        for slot in self.slots.values():
            if slot.queue is not None:
                slot.queue.close()
            self.evict(slot)

    def evict(self, slot: ModelSlot) -> None:
        """Unload a model that has no work in flight and free its memory for real."""
        if slot.queue is None or slot.inflight:
            return
        lm = slot.queue.lm
        slot.queue = None
        slot.bytes = 0
        release(lm)
        log.info("evicted %s (%s)", slot.key, slot.model_id)


def _reason(exc: BaseException) -> str:
    """A short human reason for a load failure, first line only."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if (
        "offline" in lowered
        or "couldn't connect" in lowered
        or "local_files_only" in lowered
        or "cannot find the requested files" in lowered
        or "not found" in lowered
    ):
        return f"not found locally and the hub cannot be reached ({text[:200]})"
    return f"{type(exc).__name__}: {text[:300]}"
