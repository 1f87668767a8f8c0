"""RemoteEngine on the model server (a local Ray cluster): the engine's results, errors, status.

The session's model server runs the tiny models on one CPU replica (tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot import texts
from bot.config import Settings
from bot.engine import Engine, EngineError, last_timings
from bot.engine.results import QAInput, ZeroShotInput
from bot.engine.status import EngineStatus, ModelStatus, ReplicaStatus
from bot.status_view import status_lines
from tests.ray_cluster import NO_RAY, status_when

pytest.importorskip("ray", reason=NO_RAY)

from bot.engine.remote import SILENT_AFTER_S, RemoteEngine, aggregate_status

# Every task, with a parameter where it has some; the poem is sampled, so it is seeded.
SAMPLES: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "translate_es_en": (["Hola, ¿qué tal?", "El tren llegó tarde."], {}),
    "translate_en_es": (["Hello, how are you?"], {}),
    "summarize": (["El día fue largo. Llovió toda la tarde y el tren llegó tarde."], {}),
    "qa": ([QAInput("¿Quién llegó?", "El tren llegó tarde a Madrid.")], {}),
    "zero_shot": ([ZeroShotInput("El equipo ganó la final", ("deportes", "política"))], {}),
    "fill_mask": (["La capital de Francia es <mask>."], {"top_k": 3}),
    "poem": (["La luna sobre el mar"], {"seed": 7}),
    "pos": (["El gato duerme en el sofá."], {}),
    "sentiment": (["Me encanta", "Qué día tan malo"], {}),
    "language": (["Bonjour tout le monde"], {}),
}

# Each is refused by the engine on purpose: an unknown task, bad inputs, bad parameters.
REFUSED: list[tuple[str, Any, dict[str, Any]]] = [
    ("no_such_task", ["hola"], {}),
    ("translate_es_en", "not a list", {}),
    ("sentiment", ["x" * 20_001], {}),
    ("fill_mask", ["sin hueco"], {}),
    ("zero_shot", [ZeroShotInput("texto", ())], {}),
    ("poem", ["hola"], {"max_new_tokens": -1}),
    ("sentiment", ["hola"], {"no_such_parameter": 1}),
]


@pytest.fixture
async def remote(model_server: Settings) -> AsyncIterator[RemoteEngine]:
    engine = RemoteEngine(model_server)
    yield engine
    await engine.close()


@pytest.fixture
async def local(model_server: Settings) -> AsyncIterator[Engine]:
    """The in-process engine with the model server's own settings."""
    engine = Engine(model_server.model_copy(update={"engine_backend": "local"}))
    yield engine
    await engine.close()


async def outcome(call: Callable[[], Awaitable[list[Any]]]) -> Any:
    """A call's results, or the error it raised as (type, message, attributes)."""
    try:
        return await call()
    except EngineError as exc:
        return type(exc), str(exc), vars(exc)


async def test_every_task_gives_the_local_engines_results(
    remote: RemoteEngine, local: Engine
) -> None:
    for task, (inputs, params) in SAMPLES.items():
        got = await remote.run(task, inputs, **params)
        timings = last_timings()
        assert got == await local.run(task, inputs, **params), task
        assert timings is not None and timings.task == task
        assert timings.model == local.status().models[task].model


@pytest.mark.parametrize(("task", "inputs", "params"), REFUSED, ids=lambda v: str(v)[:20])
async def test_refusals_arrive_as_the_same_typed_errors(
    remote: RemoteEngine, local: Engine, task: str, inputs: Any, params: dict[str, Any]
) -> None:
    expected = await outcome(lambda: local.run(task, inputs, **params))
    got = await outcome(lambda: remote.run(task, inputs, **params))
    assert isinstance(expected, tuple), "the local engine accepted it"
    assert got == expected


async def test_preload_loads_on_the_replica_that_serves_the_task(remote: RemoteEngine) -> None:
    assert await remote.preload(["pos"]) == {"pos": "ok"}
    status = await status_when(remote, lambda s: s.models["pos"].loaded)
    assert status.models["pos"].loaded


async def test_status_lists_every_replica_and_adds_up_their_models(remote: RemoteEngine) -> None:
    await remote.run("language", ["Hola a todos"])
    status = await status_when(remote, lambda s: s.models["language"].requests > 0)
    [replica] = [r for r in status.replicas or () if r.seconds_since_report <= SILENT_AFTER_S]
    assert replica.pid != os.getpid()
    assert replica.engine.device == status.device == "cpu"
    assert status.used_bytes == replica.engine.used_bytes > 0
    assert status.models["language"] == replica.engine.models["language"]
    lines = status_lines(status)
    assert "1 réplica(s)" in lines[2]
    assert any(f"pid {replica.pid}" in line for line in lines)
    assert remote.status() is status  # what /estado shows without waiting


def replica(name: str, used: int, qa: ModelStatus, silent_s: float = 1.0) -> ReplicaStatus:
    engine = EngineStatus("cuda", "float16", used_bytes=used, models={"qa": qa})
    return ReplicaStatus(name, "10.0.0.7", 100, engine, silent_s)


def test_live_replicas_add_up_and_a_silent_one_is_only_listed() -> None:
    first = replica(
        "a",
        100,
        ModelStatus(
            "m",
            loaded=True,
            bytes=100,
            requests=3,
            batches=2,
            mean_batch_size=1.5,
            queue_wait_p95_ms=9.0,
        ),
    )
    second = replica(
        "b", 50, ModelStatus("m", requests=1, batches=2, mean_batch_size=3.0, queue_wait_p95_ms=4.0)
    )
    dead = replica("c", 999, ModelStatus("m", loaded=True, requests=9), SILENT_AFTER_S + 1)
    status = aggregate_status([first, second, dead])
    assert status.used_bytes == 150
    qa = status.models["qa"]
    assert (qa.loaded, qa.bytes, qa.requests, qa.batches) == (True, 100, 4, 4)
    assert (qa.mean_batch_size, qa.queue_wait_p95_ms) == (2.25, 9.0)
    assert status.replicas == (first, second, dead)
    lines = status_lines(status)
    assert "2 réplica(s)" in lines[2]
    assert sum("sin noticias" in line for line in lines) == 1


def test_without_replicas_the_status_says_none_answers() -> None:
    assert texts.STATUS_NO_REPLICAS in status_lines(aggregate_status([]))
