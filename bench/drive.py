"""Driving the engine: simulated chats, the direct-model baseline, the /ayuda probe and memory.

Every figure is taken the way a user would feel it (a chat's request from send to reply) or the
way the hardware bounds it (the task's own ``forward`` on pre-tokenised features, no engine).
"""

from __future__ import annotations

import asyncio
import math
import resource
import time
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from bench.inputs import Workload
from bot.engine import Engine, last_timings
from bot.engine.loading import load_model
from bot.engine.registry import create_task
from bot.engine.tasks.base import Feature, LoadedModel
from bot.request import Request
from bot.services import Services


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); NaN when there is nothing to rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Phase:
    """What K chats sending through one engine measured."""

    mode: str
    concurrency: int
    latencies_ms: list[float]
    wall_s: float
    batches: int
    items: int
    peak_mb: float
    ayuda_ms: list[float] = field(default_factory=list)
    outside_ms: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else math.nan

    @property
    def mean_batch(self) -> float:
        return self.items / self.batches if self.batches else math.nan

    def summary(self) -> dict[str, Any]:
        """Plain figures for the JSON report."""
        return {
            "mode": self.mode,
            "concurrency": self.concurrency,
            "requests": len(self.latencies_ms),
            "wall_s": round(self.wall_s, 3),
            "throughput_rps": round(self.throughput, 3),
            "p50_ms": round(percentile(self.latencies_ms, 0.5), 1),
            "p95_ms": round(percentile(self.latencies_ms, 0.95), 1),
            "batches": self.batches,
            "mean_batch_size": round(self.mean_batch, 2),
            "peak_mb": round(self.peak_mb, 1),
            "outside_queue_p50_ms": round(percentile(self.outside_ms, 0.5), 2),
            "ayuda_p99_ms": round(percentile(self.ayuda_ms, 0.99), 2),
        }


class PeakMemory:
    """Peak resident memory of one phase above its start, via Linux's resettable high-water mark."""

    def __init__(self) -> None:
        self.resettable = self._reset()
        self._start_mb = 0.0

    def start(self) -> None:
        self._reset()
        self._start_mb = _status_mb("VmRSS")

    def peak_mb(self) -> float:
        """Growth of the peak over the phase start (activations, padding, generation caches)."""
        if self.resettable:
            return max(0.0, _status_mb("VmHWM") - self._start_mb)
        return max(0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - self._start_mb)

    @staticmethod
    def _reset() -> bool:
        """Writing 5 to clear_refs resets VmHWM (Linux only); False where that is not allowed."""
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            return False
        return True


def _status_mb(field_name: str) -> float:
    """One memory line of /proc/self/status, in MB (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _queue_counts(engine: Engine, task: str) -> tuple[int, int]:
    """Batches and features the task's queue has run so far, from the public status."""
    model = engine.status().models[task]
    batches = int(model.batches)
    return batches, round((model.mean_batch_size or 0) * batches)


async def probe_ayuda(services: Services, stop: asyncio.Event, interval: float) -> list[float]:
    """/ayuda every `interval` s, timed from when it was due, so a busy event loop shows."""
    latencies: list[float] = []
    request = Request(chat_id=-1, user_id=-1, command="ayuda")
    from handlers import dispatch

    due = time.perf_counter()
    while not stop.is_set():
        due += interval
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await dispatch(request, services)
        latencies.append((time.perf_counter() - due) * 1000)
        due = max(due, time.perf_counter() - interval)  # a late probe does not fire a burst
    return latencies


async def run_chats(
    engine: Engine,
    workload: Workload,
    concurrency: int,
    mode: str,
    services: Services | None = None,
    probe_interval: float = 0.02,
) -> Phase:
    """`concurrency` chats, each sending its share of the inputs one after the other."""
    per_chat = [workload.inputs[chat::concurrency] for chat in range(concurrency)]
    latencies: list[float] = []
    outside: list[float] = []

    async def chat(messages: list[Any]) -> None:
        """One chat: the next message only after the reply to the last, like a person."""
        for message in messages:
            started = time.perf_counter()
            await engine.run(workload.task, [message], **workload.params)
            latencies.append((time.perf_counter() - started) * 1000)
            outside.append(latencies[-1] - _in_queue_ms())

    memory = PeakMemory()
    batches_before, items_before = _queue_counts(engine, workload.task)
    stop = asyncio.Event()
    probe = asyncio.create_task(probe_ayuda(services, stop, probe_interval)) if services else None
    memory.start()
    started = time.perf_counter()
    await asyncio.gather(*(chat(messages) for messages in per_chat))
    wall = time.perf_counter() - started
    peak = memory.peak_mb()
    stop.set()
    ayuda = await probe if probe else []
    batches, items = _queue_counts(engine, workload.task)
    return Phase(
        mode, concurrency, latencies, wall, batches - batches_before, items - items_before, peak,
        ayuda, outside,
    )  # fmt: skip


def _in_queue_ms() -> float:
    """Queue wait plus forward of the run just awaited: the rest is tokenising, hops, decoding."""
    timings = last_timings()
    return (timings.queue_wait_s + timings.inference_s) * 1000 if timings else 0.0


class DirectModel:
    """The task's own forward on pre-tokenised features, on a torch thread of its own."""

    def __init__(self, key: str, folder: Path, threads: int) -> None:
        self.key = key
        self.task = create_task(key)
        self._thread = ThreadPoolExecutor(
            max_workers=1, initializer=torch.set_num_threads, initargs=(threads,)
        )
        device, dtype = torch.device("cpu"), torch.float32
        self.lm: LoadedModel = self._thread.submit(
            load_model, self.task, key, str(folder), device, dtype
        ).result()

    def features(
        self, item: Any, params: dict[str, Any]
    ) -> tuple[list[Feature], dict[str, Hashable]]:
        """The features and forward params the engine would queue for this one input."""
        steps = self.task.parse_params(params)
        self.task.validate([item])
        features = self.task.preprocess(self.lm, [item], steps.preprocess)
        if not features:
            raise RuntimeError(f"{self.key} needs no forward for {item!r}")
        return features, dict(steps.forward)

    async def forward_s(self, features: list[Feature], params: Mapping[str, Hashable]) -> float:
        """Seconds of one forward, timed on the torch thread (no hops, no tokenising)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._timed, features, params)

    def _timed(self, features: list[Feature], params: Mapping[str, Hashable]) -> float:
        """Runs on the torch thread, so the clock sees the forward alone."""
        started = time.perf_counter()
        with torch.inference_mode():
            self.task.forward(self.lm, features, params)
        return time.perf_counter() - started

    async def batched_s(
        self,
        per_request: list[list[Feature]],
        params: Mapping[str, Hashable],
        max_size: int,
        max_tokens: int,
    ) -> tuple[float, int]:
        """Seconds and batches for every request's features, sorted by length and batched.

        Sorting is the least padding any batcher could reach over these inputs, so the baseline
        is the hardware's best, not a naive arrival-order loop the engine would easily beat.
        """
        rows = sorted((f for features in per_request for f in features), key=lambda f: f.length)
        total, batches, start = 0.0, 0, 0
        while start < len(rows):
            end, width = start, 0
            while end < len(rows) and end - start < max_size:
                wider = max(width, rows[end].length)
                if end > start and wider * (end - start + 1) > max_tokens:
                    break
                width, end = wider, end + 1
            total += await self.forward_s(rows[start:end], params)
            batches += 1
            start = end
        return total, batches

    def close(self) -> None:
        self.lm.model = None
        self._thread.shutdown(wait=True)
