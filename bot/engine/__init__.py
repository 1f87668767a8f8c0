"""The engine: the only code that knows torch and transformers.

engine = Engine(settings)
results = await engine.run("translate_es_en", ["Hola, ¿qué tal?"])
engine.status()
await engine.close()
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from bot.engine.backend import InferenceBackend
from bot.engine.errors import (
    EngineBusy,
    EngineClosed,
    EngineError,
    HubUnreachable,
    InferenceFailed,
    InputTooLong,
    InvalidInput,
    ModelTooLarge,
    ModelUnavailable,
    NoMemoryForModel,
    QueueFull,
    UnknownTask,
)
from bot.engine.registry import TASK_KEYS, create_task, get_spec, model_id, task_keys
from bot.engine.results import Tokenization
from bot.engine.status import EngineStatus, ModelStatus
from bot.engine.timings import RunTimings, last_timings, reset_timings, start_timings

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.config import Settings
    from bot.engine.models import ModelCache, ModelSlot
    from bot.engine.tasks.base import Feature, LoadedModel

__all__ = [
    "TASK_KEYS",
    "Engine",
    "EngineBusy",
    "EngineClosed",
    "EngineError",
    "EngineStatus",
    "HubUnreachable",
    "InferenceBackend",
    "InferenceFailed",
    "InputTooLong",
    "InvalidInput",
    "ModelStatus",
    "ModelTooLarge",
    "ModelUnavailable",
    "NoMemoryForModel",
    "QueueFull",
    "RunTimings",
    "UnknownTask",
    "last_timings",
    "reset_timings",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long `close` lets requests in flight finish before answering them EngineClosed.
CLOSE_WAIT_S = 30.0


class _Context:
    """The TaskContext the engine gives a running task."""

    def __init__(self, slot: ModelSlot, prep: ThreadPoolExecutor, timings: RunTimings) -> None:
        assert slot.queue is not None
        self.queue = slot.queue
        self.lm: LoadedModel = slot.queue.lm
        self._prep = prep
        self._timings = timings
        self._arrived = False
        self.queue.expect()

    def settle(self) -> None:
        """Tell the queue this request is no longer on its way (it submitted or finished)."""
        if not self._arrived:
            self._arrived = True
            self.queue.arrived()

    async def prepare(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._prep, lambda: fn(*args))

    async def forward(self, features: list[Feature], params: Mapping[str, Hashable]) -> list[Any]:
        self.settle()
        return await self.queue.submit(features, params, self._timings)


class Engine:
    """One model manager for every task: lazy loads, a memory budget, batching, off-loop work."""

    def __init__(self, settings: Settings) -> None:
        from bot.engine.loading import resolve_device, resolve_dtype
        from bot.engine.models import ModelCache
        from bot.engine.runtimes import plan_from_settings
        from bot.engine.worker import DeviceWorker

        self.settings = settings
        self.device = resolve_device(settings.device)
        self.dtype = resolve_dtype(settings.dtype, self.device)
        self._worker = DeviceWorker(self.device, settings.torch_threads)
        self._cache: ModelCache = ModelCache(
            self._worker,
            self.dtype,
            int(settings.model_memory_mb * 2**20),
            settings.batch_max_size,
            settings.batch_max_tokens,
            settings.batch_wait_ms / 1000,
        )
        self._prep: dict[str, ThreadPoolExecutor] = {}
        self._tokenizers: dict[str, Any] = {}  # tokenizers alone, loaded by `tokenize`
        keys = task_keys()
        self._pending: dict[str, int] = dict.fromkeys(keys, 0)
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        for key in keys:
            task = create_task(key)
            plan = plan_from_settings(settings, key, task, self.device)
            self._cache.add(key, model_id(key, settings.model_for(key)), task, plan)

    async def preload(self, keys: list[str] | None = None) -> dict[str, str]:
        """Load models ahead of the first request (PRELOAD); returns key -> "ok" or the error."""
        outcome: dict[str, str] = {}
        for key in keys if keys is not None else self.settings.preload:
            get_spec(key)
            try:
                slot = await self._cache.acquire(key)
            except EngineError as exc:
                outcome[key] = str(exc)
                continue
            await self._cache.release(slot)
            outcome[key] = "ok"
        return outcome

    async def run(self, task: str, inputs: list[Any], **params: Any) -> list[Any]:
        """Run a task on a list of inputs; one result per input, in order."""
        if self._closed:
            raise EngineClosed(task)
        get_spec(task)
        if not isinstance(inputs, list):
            raise InvalidInput("inputs must be a list")
        for item in inputs:
            length = _input_chars(item)
            if length > self.settings.max_input_chars:
                raise InputTooLong(length, self.settings.max_input_chars)
        slot = self._cache.slots[task]
        # Checked once, before any model is loaded; the task trusts them from here on.
        # GENERATION_<KEY> fills in what the caller leaves out; the model's own come last.
        steps = slot.task.parse_params({**self.settings.generation_for(task), **params})
        slot.task.validate(inputs)
        if not inputs:
            return []
        quick = await asyncio.to_thread(slot.task.answer_without_model, inputs, steps)
        if quick is not None:
            return quick
        if self._pending[task] >= self.settings.queue_max:
            raise QueueFull(task, self._pending[task])
        timings = start_timings(task, slot.model_id)
        self._pending[task] += 1
        self._idle.clear()
        try:
            slot = await self._cache.acquire(task)
            try:
                ctx = _Context(slot, self._prep_executor(task), timings)
                try:
                    results = await slot.task.run(ctx, inputs, steps)
                finally:
                    ctx.settle()
                slot.requests += 1
                return results
            finally:
                await self._cache.release(slot)
        except EngineError:
            raise
        except Exception as exc:
            slot.failures += 1
            slot.last_error = f"{type(exc).__name__}: {exc}"[:300]
            log.exception("inference failed for %s", task)
            if _is_out_of_memory(exc):
                self._cache.evict(slot)
            raise InferenceFailed(task, slot.model_id, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._pending[task] -= 1
            if not any(self._pending.values()):
                self._idle.set()

    async def tokenize(self, task: str, texts: list[str]) -> list[Tokenization]:
        """How the tokenizer of a task's model cuts each text; loads no weights for it."""
        from bot.engine.tasks.checks import check_texts
        from bot.engine.tokenization import cut_into_tokens

        if self._closed:
            raise EngineClosed(task)
        get_spec(task)
        check_texts(texts)
        for text in texts:
            if len(text) > self.settings.max_input_chars:
                raise InputTooLong(len(text), self.settings.max_input_chars)
        slot = self._cache.slots[task]
        loop = asyncio.get_running_loop()
        prep = self._prep_executor(task)  # the thread the model's own tokenizer runs on
        tokenizer = slot.queue.lm.tokenizer if slot.queue else self._tokenizers.get(task)
        if tokenizer is None:
            tokenizer = await loop.run_in_executor(prep, self._load_tokenizer, slot)
            self._tokenizers[task] = tokenizer
        return await loop.run_in_executor(
            prep, lambda: [cut_into_tokens(tokenizer, text) for text in texts]
        )

    @staticmethod
    def _load_tokenizer(slot: ModelSlot) -> Any:
        from bot.engine.tokenization import load_tokenizer_only

        return load_tokenizer_only(slot.task, slot.key, slot.model_id)

    def unload(self, task: str) -> None:
        """Drop a task's model if it is idle (frees memory; the next request reloads it)."""
        self._cache.evict(self._cache.slots[get_spec(task).key])

    def _prep_executor(self, task: str) -> ThreadPoolExecutor:
        # One tokenizer thread per model: fast tokenizers must not be shared across threads.
        if task not in self._prep:
            self._prep[task] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"prep-{task}")
        return self._prep[task]

    def status(self) -> EngineStatus:
        """Figures for /estado and `status`."""
        models: dict[str, ModelStatus] = {}
        for key, slot in self._cache.slots.items():
            queue = slot.queue
            stats = queue.stats if queue else None
            models[key] = ModelStatus(
                model=slot.model_id,
                loaded=slot.loaded,
                device=str(queue.lm.device) if queue else None,
                dtype=str(queue.lm.dtype).removeprefix("torch.") if queue else None,
                bytes=slot.bytes,
                load_seconds=round(slot.load_seconds, 3),
                loads=slot.loads,
                requests=slot.requests,
                in_flight=slot.inflight,
                queue_depth=self._pending[key],
                batches=stats.batches if stats else 0,
                mean_batch_size=round(stats.items / stats.batches, 2)
                if stats and stats.batches
                else None,
                queue_wait_p50_ms=stats.percentile_ms(0.5) if stats else None,
                queue_wait_p95_ms=stats.percentile_ms(0.95) if stats else None,
                failures=slot.failures,
                last_error=slot.last_error,
                runtime=queue.lm.runtime if queue else None,
            )
        return EngineStatus(
            device=str(self.device),
            dtype=str(self.dtype).removeprefix("torch."),
            budget_bytes=self._cache.budget,
            used_bytes=self._cache.used_bytes,
            models=models,
        )

    async def close(self) -> None:
        """Finish work in flight, then drop every model."""
        self._closed = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=CLOSE_WAIT_S)
        except TimeoutError:
            log.warning("closing with requests still in flight: they get EngineClosed")
        self._cache.close()
        await asyncio.to_thread(self._shutdown_threads)

    def _shutdown_threads(self) -> None:
        for executor in self._prep.values():
            executor.shutdown(wait=True)
        self._worker.close()


def _input_chars(item: Any) -> int:
    """Characters of user text in an input, whatever its shape."""
    if isinstance(item, str):
        return len(item)
    if dataclasses.is_dataclass(item):
        return sum(_input_chars(getattr(item, f.name)) for f in dataclasses.fields(item))
    if isinstance(item, list | tuple):
        return sum(_input_chars(x) for x in item)
    return 0


def _is_out_of_memory(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError"
