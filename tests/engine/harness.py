"""Running one task without the engine's queues: for task-level tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from bot.engine.loading import load_model
from bot.engine.registry import create_task
from bot.engine.runtimes import plan_for
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task

T = TypeVar("T")
TaskT = TypeVar("TaskT", bound=Task)


class DirectContext:
    """A TaskContext that runs forward directly, in batches of `batch_size` features."""

    def __init__(self, task: Task, lm: LoadedModel, batch_size: int = 64) -> None:
        self.task = task
        self.lm = lm
        self.batch_size = batch_size
        self.forward_calls: list[int] = []

    async def prepare(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def forward(self, features: list[Feature], params: Mapping[str, Hashable]) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(features), self.batch_size):
            chunk = features[i : i + self.batch_size]
            self.forward_calls.append(len(chunk))
            with torch.inference_mode():
                out.extend(self.task.forward(self.lm, chunk, params))
        return out


RUNTIME: dict[str, Any] = {"name": "torch", "cache_dir": None}
"""The session's RUNTIME (pytest --runtime) and conversion cache, set by tests/conftest.py."""


def load_task(key: str, folder: str, runtime: str | None = None) -> tuple[Task, LoadedModel]:
    """A task and its model on the CPU, under the session's runtime unless one is named."""
    task = create_task(key)
    cpu = torch.device("cpu")
    plan = plan_for(runtime or RUNTIME["name"], task, cpu, "auto", RUNTIME["cache_dir"], 1)
    lm = load_model(task, key, folder, cpu, torch.float32, plan=plan)
    return task, lm


async def run_direct(
    key: str, folder: str, inputs: list[Any], batch_size: int = 64, **params: Any
) -> list[Any]:
    """Load a task's model from a folder and run inputs through it."""
    loaded = await asyncio.to_thread(load_task, key, folder)
    results, _ = await run_loaded(loaded, inputs, batch_size, **params)
    return results


async def run_loaded(
    loaded: tuple[Task, LoadedModel], inputs: list[Any], batch_size: int = 64, **params: Any
) -> tuple[list[Any], DirectContext]:
    """Check and run inputs on an already loaded model; the context counts the forwards."""
    task, lm = loaded
    steps = check_request(task, inputs, params)
    ctx = DirectContext(task, lm, batch_size)
    return await task.run(ctx, inputs, steps), ctx


def check_request(task: Task, inputs: Any, params: dict[str, Any]) -> StepParams:
    """What the engine checks before it loads a model: the parameters, then the inputs."""
    steps = task.parse_params(params)
    task.validate(inputs)
    return steps


class LoadedTasks:
    """Each task's tiny model, loaded on first use and then shared by every test that asks."""

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self.folders = folders
        self.cache: dict[str, tuple[Task, LoadedModel]] = {}

    def get(self, key: str, kind: type[TaskT]) -> tuple[TaskT, LoadedModel]:
        """The task for `key` (checked to be a `kind`) and its loaded tiny model."""
        if key not in self.cache:
            self.cache[key] = load_task(key, str(self.folders[key]))
        task, lm = self.cache[key]
        assert isinstance(task, kind)
        return task, lm


def before_forward(engine: Any, task: str, hook: Callable[[list[Feature]], None]) -> None:
    """Run `hook(features)` on the torch thread ahead of each forward of a loaded task.

    Tests use it to hold, slow down or break a model without touching its code.
    """
    slot = engine._cache.slots[task]
    original = slot.task.forward

    def hooked(lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]) -> Any:
        hook(features)
        return original(lm, features, params)

    slot.task.forward = hooked


def hold_forward(engine: Any, task: str) -> tuple[threading.Event, threading.Event]:
    """Make a task's forward wait for a signal: returns (entered, release)."""
    entered, release = threading.Event(), threading.Event()

    def hold(features: list[Feature]) -> None:
        entered.set()
        release.wait(timeout=30)

    before_forward(engine, task, hold)
    return entered, release


async def wait_for(event: threading.Event) -> None:
    """Wait for a held forward's signal without blocking the event loop."""
    await asyncio.to_thread(event.wait, 30)
