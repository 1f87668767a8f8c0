"""The model manager: lazy single-flight loads, the memory budget, errors, a free event loop."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.engine import (
    Engine,
    EngineBusy,
    InferenceFailed,
    InputTooLong,
    ModelTooLarge,
    ModelUnavailable,
)
from bot.engine.loading import estimate_bytes
from bot.engine.registry import create_task
from bot.engine.results import Classification, QAInput, ZeroShotInput
from tests.engine.harness import before_forward, hold_forward, wait_for
from tests.tiny_models import corrupt_model_folder

SAMPLES = [
    "Me encanta este libro.",
    "El tren llegó tarde otra vez y nadie dijo nada.",
    "Hola",
    "¿Vamos a la playa mañana por la tarde si hace buen tiempo?",
]


async def test_every_task_answers_through_the_engine(engine: Engine) -> None:
    inputs: dict[str, list[Any]] = {
        "translate_es_en": ["Hola, ¿qué tal?"],
        "translate_en_es": ["Hello, how are you?"],
        "summarize": ["El día fue largo. Llovió toda la tarde y el tren llegó tarde."],
        "qa": [QAInput("¿Quién llegó?", "El tren llegó tarde a Madrid.")],
        "zero_shot": [ZeroShotInput("El equipo ganó la final", ("deportes", "política"))],
        "fill_mask": ["La capital de Francia es <mask>."],
        "poem": ["La luna sobre el mar"],
        "pos": ["El gato duerme en el sofá."],
        "sentiment": ["Me encanta"],
        "language": ["Bonjour tout le monde"],
        "transcribe": [create_task("transcribe").smoke_input()],  # a second of a quiet tone
    }
    for task, items in inputs.items():
        results = await engine.run(task, items)
        assert len(results) == len(items), task
    status = engine.status()
    assert all(m.loaded and m.requests == 1 for m in status.models.values())


async def test_concurrent_requests_batch_and_match_one_by_one(
    make_settings: Callable[..., Settings],
) -> None:
    alone = Engine(make_settings(batch_max_size=1))
    together = Engine(make_settings(batch_max_size=32))
    try:
        expected = [(await alone.run("sentiment", [text]))[0] for text in SAMPLES * 4]
        entered, release = hold_forward(together, "sentiment")
        first = asyncio.create_task(together.run("sentiment", ["primero"]))
        await wait_for(entered)
        rest = [asyncio.create_task(together.run("sentiment", [t])) for t in SAMPLES * 4]
        await asyncio.sleep(0.05)
        release.set()
        await first
        got = [(await task)[0] for task in rest]
        stats = together.status().models["sentiment"]
    finally:
        await alone.close()
        await together.close()
    for a, b in zip(expected, got, strict=True):
        assert isinstance(b, Classification)
        assert [x.label for x in a.labels] == [x.label for x in b.labels]
        for x, y in zip(a.labels, b.labels, strict=True):
            assert x.score == pytest.approx(y.score, abs=1e-5)
    assert stats.batches == 2  # the lone first request, then all sixteen in one batch
    assert stats.mean_batch_size == pytest.approx(8.5)


async def test_many_concurrent_first_requests_cause_one_load(engine: Engine) -> None:
    results = await asyncio.gather(*(engine.run("pos", ["El gato duerme."]) for _ in range(12)))
    assert len(results) == 12
    assert engine.status().models["pos"].loads == 1


async def test_budget_evicts_least_recently_used_and_keeps_under_it(
    make_settings: Callable[..., Settings], tiny_models: dict[str, Path]
) -> None:
    import torch

    sizes = {
        k: estimate_bytes(str(tiny_models[k]), torch.float32)
        for k in ("sentiment", "pos", "zero_shot")
    }
    budget = sizes["sentiment"] + sizes["pos"] + sizes["zero_shot"] // 2
    engine = Engine(make_settings(model_memory_mb=budget / 2**20))
    try:
        await engine.run("sentiment", ["uno"])
        await engine.run("pos", ["dos"])
        await engine.run("sentiment", ["uno otra vez"])  # pos is now least recently used
        await engine.run("zero_shot", [ZeroShotInput("tres", ("a", "b"))])
        status = engine.status()
        loaded = {k for k, m in status.models.items() if m.loaded}
        assert loaded == {"sentiment", "zero_shot"}
        assert 0 < status.used_bytes <= budget
    finally:
        await engine.close()


async def test_eviction_never_removes_a_model_that_is_working(
    make_settings: Callable[..., Settings], tiny_models: dict[str, Path]
) -> None:
    import torch

    sizes = {k: estimate_bytes(str(tiny_models[k]), torch.float32) for k in ("sentiment", "pos")}
    engine = Engine(make_settings(model_memory_mb=max(sizes.values()) * 1.5 / 2**20))
    try:
        entered, release = hold_forward(engine, "sentiment")
        working = asyncio.create_task(engine.run("sentiment", ["sigo trabajando"]))
        await wait_for(entered)
        waiting = asyncio.create_task(engine.run("pos", ["espero mi turno"]))
        await asyncio.sleep(0.3)
        assert engine.status().models["sentiment"].loaded
        assert not waiting.done()  # pos must wait: sentiment is busy and cannot be evicted
        release.set()
        assert len(await working) == 1
        assert len(await waiting) == 1
        status = engine.status()
        assert status.models["pos"].loaded and not status.models["sentiment"].loaded
    finally:
        await engine.close()


async def test_model_bigger_than_the_budget_gets_a_clear_error(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Engine(make_settings(model_memory_mb=0.01))
    try:
        with pytest.raises(ModelTooLarge) as info:
            await engine.run("sentiment", ["hola"])
        assert "MODEL_MEMORY_MB" in str(info.value)
    finally:
        await engine.close()


@pytest.mark.parametrize("breakage", ["missing", "corrupt"])
async def test_broken_model_folder_names_it_and_others_keep_working(
    make_settings: Callable[..., Settings], tmp_path: Path, breakage: str
) -> None:
    folder = tmp_path / "broken-model"
    if breakage == "corrupt":
        corrupt_model_folder(folder)
    engine = Engine(make_settings(model_sentiment=str(folder)))
    try:
        with pytest.raises(ModelUnavailable) as info:
            await engine.run("sentiment", ["hola"])
        assert info.value.model_id == str(folder)
        assert str(folder) in str(info.value)
        assert len(await engine.run("pos", ["El gato duerme."])) == 1
        status = engine.status().models["sentiment"]
        assert not status.loaded and status.failures == 1 and status.last_error
    finally:
        await engine.close()


async def test_event_loop_stays_free_during_slow_inference(engine: Engine) -> None:
    await engine.run("sentiment", ["carga el modelo"])
    before_forward(engine, "sentiment", lambda features: time.sleep(0.6))
    job = asyncio.create_task(engine.run("sentiment", ["despacio"]))
    lags = []
    while not job.done():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - before - 0.005)
    await job
    assert len(lags) > 20
    assert max(lags) < 0.05


async def test_full_queue_answers_busy_at_once(make_settings: Callable[..., Settings]) -> None:
    engine = Engine(make_settings(queue_max=2))
    try:
        entered, release = hold_forward(engine, "sentiment")
        jobs = [asyncio.create_task(engine.run("sentiment", [f"texto {i}"])) for i in range(2)]
        await wait_for(entered)
        started = time.perf_counter()
        with pytest.raises(EngineBusy):
            await engine.run("sentiment", ["uno más"])
        assert time.perf_counter() - started < 0.1
        release.set()
        assert [len(r) for r in await asyncio.gather(*jobs)] == [1, 1]
    finally:
        await engine.close()


async def test_input_longer_than_the_limit_is_refused_before_loading(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Engine(make_settings(max_input_chars=100))
    try:
        with pytest.raises(InputTooLong) as info:
            await engine.run("qa", [QAInput("¿Qué?", "x" * 200)])
        assert info.value.limit == 100
        assert not engine.status().models["qa"].loaded
    finally:
        await engine.close()


async def test_inference_failure_is_typed_and_isolated(engine: Engine) -> None:
    await engine.run("sentiment", ["carga"])

    def broken(features: list[Any]) -> None:
        raise RuntimeError("boom")

    before_forward(engine, "sentiment", broken)
    with pytest.raises(InferenceFailed):
        await engine.run("sentiment", ["falla"])
    assert len(await engine.run("pos", ["sigue"])) == 1


async def test_status_reports_each_model(engine: Engine) -> None:
    await engine.run("pos", ["El gato duerme."])
    status = engine.status()
    assert status.device == "cpu" and status.dtype == "float32"
    pos = status.models["pos"]
    assert pos.loaded and pos.device == "cpu" and pos.dtype == "float32"
    assert pos.bytes > 0 and pos.load_seconds > 0 and pos.requests == 1
    assert status.used_bytes == pos.bytes


def test_missing_tiny_model_folder_copy_is_isolated(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    """Copying a model folder elsewhere keeps it loadable (paths are not baked in)."""
    copy = tmp_path / "copy"
    shutil.copytree(tiny_models["pos"], copy)
    assert estimate_bytes(str(copy), __import__("torch").float32) > 0


@pytest.mark.parametrize(("wait_ms", "batched_together"), [(500, True), (0, False)])
async def test_a_burst_from_many_chats_shares_one_forward(
    make_settings: Callable[..., Settings], wait_ms: float, batched_together: bool
) -> None:
    engine = Engine(make_settings(batch_wait_ms=wait_ms))
    try:
        await engine.run("sentiment", ["carga el modelo"])
        task = engine._cache.slots["sentiment"].task
        tokenise = task.preprocess  # type: ignore[attr-defined]

        def slow_tokeniser(*args: Any) -> Any:
            time.sleep(0.005)  # as real tokenisers take, so a burst arrives over time
            return tokenise(*args)

        task.preprocess = slow_tokeniser  # type: ignore[attr-defined]
        before = engine.status().models["sentiment"].batches
        await asyncio.gather(*(engine.run("sentiment", [t]) for t in SAMPLES * 4))
        batches = engine.status().models["sentiment"].batches - before
    finally:
        await engine.close()
    assert (batches == 1) is batched_together


async def test_a_burst_slower_to_tokenise_than_one_wait_still_shares_one_forward(
    make_settings: Callable[..., Settings],
) -> None:
    """32 chats at once take longer than BATCH_WAIT_MS to tokenise; they are not cut in two.

    (30 ms, not the default 10, so a gap between two arrivals on a busy machine is no cut.)
    """
    engine = Engine(make_settings(batch_wait_ms=30))
    try:
        await engine.run("sentiment", ["carga el modelo"])
        task = engine._cache.slots["sentiment"].task
        tokenise = task.preprocess  # type: ignore[attr-defined]

        def slow_tokeniser(*args: Any) -> Any:
            time.sleep(0.003)  # 32 of them: about 100 ms on the one tokeniser thread
            return tokenise(*args)

        task.preprocess = slow_tokeniser  # type: ignore[attr-defined]
        before = engine.status().models["sentiment"].batches
        texts = [f"{text} {n}" for n in range(8) for text in SAMPLES][:32]
        assert len(texts) == 32
        await asyncio.gather(*(engine.run("sentiment", [t]) for t in texts))
        batches = engine.status().models["sentiment"].batches - before
    finally:
        await engine.close()
    assert batches == 1


async def test_a_lone_request_never_waits_for_a_burst(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Engine(make_settings(batch_wait_ms=2000))
    try:
        await engine.run("sentiment", ["carga el modelo"])
        started = time.perf_counter()
        await engine.run("sentiment", ["sola"])
        assert time.perf_counter() - started < 1.0
    finally:
        await engine.close()


async def test_a_failing_batch_is_retried_in_halves(engine: Engine) -> None:
    """A batch too big for the device (out of memory) still answers everyone, in halves."""
    await engine.run("sentiment", ["carga"])
    entered, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def picky(features: list[Any]) -> None:
        sizes.append(len(features))
        if len(sizes) == 1:
            entered.set()
            release.wait(10)
        elif len(features) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    before_forward(engine, "sentiment", picky)
    first = asyncio.create_task(engine.run("sentiment", ["primera"]))
    await wait_for(entered)
    pair = [asyncio.create_task(engine.run("sentiment", [t])) for t in ("uno", "dos")]
    await asyncio.sleep(0.1)
    release.set()
    results = await asyncio.gather(first, *pair)
    assert all(len(r) == 1 for r in results)
    assert sizes == [1, 2, 1, 1]


async def test_out_of_memory_on_one_row_unloads_the_model(engine: Engine) -> None:
    await engine.run("sentiment", ["carga"])

    def out_of_memory(features: list[Any]) -> None:
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    before_forward(engine, "sentiment", out_of_memory)
    with pytest.raises(InferenceFailed):
        await engine.run("sentiment", ["demasiado"])
    assert not engine.status().models["sentiment"].loaded
    assert len(await engine.run("pos", ["sigue"])) == 1
