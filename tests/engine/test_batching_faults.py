"""The batching queue always answers: a broken forward, a bad row or a closing engine never
leaves a caller waiting, and each refusal says what happened."""

from __future__ import annotations

import asyncio
import math
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

import pytest

import bot.engine
import bot.engine.models
from bot.config import Settings
from bot.engine import (
    Engine,
    EngineBusy,
    EngineClosed,
    InferenceFailed,
    NoMemoryForModel,
    QueueFull,
)
from bot.engine.batching import ModelQueue
from bot.engine.loading import estimate_bytes
from bot.engine.tasks.base import Feature, LoadedModel
from tests.engine.harness import before_forward, hold_forward, wait_for

POISON = "veneno"
TEXTS = [
    "Me encanta este libro.",
    "El tren llegó tarde otra vez.",
    "Hola",
    "¿Vamos a la playa mañana?",
    "La reunión empieza a las diez.",
    "Odio los lunes",
    "Qué buen día hace hoy",
    "No me gusta nada",
]


def queue_of(engine: Engine, task: str) -> ModelQueue:
    queue = engine._cache.slots[task].queue
    assert queue is not None, f"{task} is not loaded"
    return queue


def after_forward(
    engine: Engine, task: str, change: Callable[[list[Feature], list[Any]], list[Any]]
) -> None:
    """Replace a loaded task's forward output with `change(features, rows)`."""
    slot = engine._cache.slots[task]
    original = slot.task.forward

    def changed(lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]) -> Any:
        return change(features, original(lm, features, params))

    slot.task.forward = changed  # type: ignore[method-assign]


def poisoned(engine: Engine, task: str, feature: Feature) -> bool:
    """Whether a feature's text holds the poison word."""
    return POISON in queue_of(engine, task).lm.tokenizer.decode(feature.input_ids)


async def run_as_one_batch(
    engine: Engine, texts: list[str], entered: threading.Event, release: threading.Event
) -> list[Any]:
    """Queue texts behind a held first forward so they run as one batch; each gets a result or
    an error within a second of the release."""
    first = asyncio.create_task(engine.run("sentiment", ["primera"]))
    await wait_for(entered)
    jobs = [asyncio.create_task(engine.run("sentiment", [text])) for text in texts]
    await asyncio.sleep(0.2)  # every job is queued behind the held first forward
    release.set()
    outcomes = await asyncio.wait_for(
        asyncio.gather(first, *jobs, return_exceptions=True), timeout=1
    )
    return list(outcomes[1:])


@pytest.mark.parametrize("change", ["one row short", "one row extra"])
async def test_a_forward_with_the_wrong_row_count_fails_every_caller_at_once(
    engine: Engine, change: str
) -> None:
    await engine.run("sentiment", ["carga"])
    entered, release = hold_forward(engine, "sentiment")
    after_forward(
        engine,
        "sentiment",
        lambda features, rows: rows[:-1] if change == "one row short" else [*rows, rows[0]],
    )
    outcomes = await run_as_one_batch(engine, TEXTS[:4], entered, release)
    assert all(isinstance(o, InferenceFailed) for o in outcomes), outcomes
    assert all("rows" in str(o) for o in outcomes)


async def test_a_lone_request_with_no_rows_back_gets_an_error_and_the_queue_goes_on(
    engine: Engine,
) -> None:
    await engine.run("sentiment", ["carga"])
    slot = engine._cache.slots["sentiment"]
    working = slot.task.forward
    after_forward(engine, "sentiment", lambda features, rows: [])
    with pytest.raises(InferenceFailed):
        await asyncio.wait_for(engine.run("sentiment", ["nada"]), timeout=1)
    slot.task.forward = working  # type: ignore[method-assign]
    assert len(await engine.run("sentiment", ["otra vez"])) == 1


@pytest.mark.parametrize("bad", [0, 3, 7])
async def test_one_bad_row_among_eight_fails_alone(engine: Engine, bad: int) -> None:
    await engine.run("sentiment", ["carga"])
    entered, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def bad_row(features: list[Feature]) -> None:
        sizes.append(len(features))
        if len(sizes) == 1:
            entered.set()
            release.wait(10)
        elif any(poisoned(engine, "sentiment", f) for f in features):
            raise RuntimeError("a row the model cannot digest")

    before_forward(engine, "sentiment", bad_row)
    texts = list(TEXTS)
    texts[bad] = f"{POISON} {texts[bad]}"
    outcomes = await run_as_one_batch(engine, texts, entered, release)

    assert sizes[1] == 8, "the eight requests did not run as one batch"
    for i, outcome in enumerate(outcomes):
        if i == bad:
            assert isinstance(outcome, InferenceFailed), outcome
        else:
            assert isinstance(outcome, list) and len(outcome) == 1, (i, outcome)
    # Bisection only re-runs halves that hold the bad row: two forwards per level at most.
    assert len(sizes) - 2 <= 2 * math.log2(8)


async def test_an_error_in_the_queue_bookkeeping_answers_the_batch(engine: Engine) -> None:
    await engine.run("sentiment", ["carga"])
    queue = queue_of(engine, "sentiment")
    kept = queue.stats.waits

    class BrokenWaits(deque[float]):
        def append(self, value: float) -> None:
            raise ValueError("bookkeeping broke")

    queue.stats.waits = BrokenWaits()
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(engine.run("sentiment", [t]) for t in TEXTS[:3]), return_exceptions=True),
        timeout=1,
    )
    assert all(isinstance(o, InferenceFailed) for o in outcomes), outcomes
    queue.stats.waits = kept
    assert len(await engine.run("sentiment", ["sigue"])) == 1


async def test_a_cancelled_drainer_answers_the_running_batch_and_the_queued_ones(
    engine: Engine,
) -> None:
    await engine.run("sentiment", ["carga"])
    entered, release = hold_forward(engine, "sentiment")
    running = asyncio.create_task(engine.run("sentiment", ["primera"]))
    await wait_for(entered)
    queued = [asyncio.create_task(engine.run("sentiment", [t])) for t in TEXTS[:3]]
    await asyncio.sleep(0.05)
    drainer = queue_of(engine, "sentiment")._drainer
    assert drainer is not None
    drainer.cancel()
    try:
        outcomes = await asyncio.wait_for(
            asyncio.gather(running, *queued, return_exceptions=True), timeout=1
        )
    finally:
        release.set()
    assert all(isinstance(o, InferenceFailed) for o in outcomes), outcomes
    assert len(await engine.run("sentiment", ["sigue"])) == 1


async def test_closing_answers_every_waiting_caller_engine_closed(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.engine, "CLOSE_WAIT_S", 0.2)
    engine = Engine(make_settings())
    await engine.run("sentiment", ["carga"])
    entered, release = hold_forward(engine, "sentiment")
    running = asyncio.create_task(engine.run("sentiment", ["primera"]))
    await wait_for(entered)
    queued = [asyncio.create_task(engine.run("sentiment", [t])) for t in TEXTS[:3]]
    await asyncio.sleep(0.05)
    closing = asyncio.create_task(engine.close())
    try:
        outcomes = await asyncio.wait_for(
            asyncio.gather(running, *queued, return_exceptions=True), timeout=1.5
        )
    finally:
        release.set()
        await closing
    assert all(isinstance(o, EngineClosed) for o in outcomes), outcomes
    with pytest.raises(EngineClosed) as info:
        await engine.run("sentiment", ["tarde"])
    assert "engine closed" in str(info.value)


async def test_a_full_queue_says_queue_full(make_settings: Callable[..., Settings]) -> None:
    engine = Engine(make_settings(queue_max=1))
    try:
        await engine.run("sentiment", ["carga"])
        entered, release = hold_forward(engine, "sentiment")
        job = asyncio.create_task(engine.run("sentiment", ["ocupa la cola"]))
        await wait_for(entered)
        with pytest.raises(QueueFull) as info:
            await engine.run("sentiment", ["uno más"])
        release.set()
        assert len(await job) == 1
    finally:
        await engine.close()
    assert isinstance(info.value, EngineBusy)
    assert "queue full" in str(info.value)
    assert info.value.queued == 1


async def test_a_model_that_cannot_make_room_in_time_says_no_memory(
    make_settings: Callable[..., Settings],
    tiny_models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    monkeypatch.setattr(bot.engine.models, "EVICTION_WAIT_S", 0.2)
    sizes = {k: estimate_bytes(str(tiny_models[k]), torch.float32) for k in ("sentiment", "pos")}
    engine = Engine(make_settings(model_memory_mb=max(sizes.values()) * 1.5 / 2**20))
    try:
        entered, release = hold_forward(engine, "sentiment")
        working = asyncio.create_task(engine.run("sentiment", ["sigo trabajando"]))
        await wait_for(entered)
        with pytest.raises(NoMemoryForModel) as info:
            await engine.run("pos", ["no quepo"])
        release.set()
        assert len(await working) == 1
        assert len(await engine.run("pos", ["ahora sí"])) == 1  # room once sentiment is idle
    finally:
        await engine.close()
    assert "no memory for this model" in str(info.value)
    assert info.value.task == "pos"
