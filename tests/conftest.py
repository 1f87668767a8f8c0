"""Shared fixtures: tiny real-architecture models on disk, settings pointing at them, services."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers.utils import logging as hf_logging

import bot.store
from bot.config import Settings
from bot.engine import Engine
from bot.engine.registry import TASK_KEYS
from bot.services import Services
from bot.store import SQLiteStore, Store
from tests.ray_cluster import RAY_TEST_ENVIRONMENT, running_ray
from tests.redis_server import RedisServer
from tests.tiny_models import build_all

hf_logging.disable_progress_bar()
# Before any test module imports Ray, which reads them once.
for _name, _value in RAY_TEST_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runtime",
        default="torch",
        choices=("torch", "auto", "ctranslate2", "onnxruntime"),
        help="RUNTIME for the engine under test (make test runs tests/engine/ under auto too)",
    )


@pytest.fixture(scope="session")
def runtime(request: pytest.FixtureRequest) -> str:
    """The RUNTIME every engine in this session runs under (--runtime)."""
    value: str = request.config.getoption("--runtime")
    return value


@pytest.fixture(scope="session", autouse=True)
def converted_dir(tmp_path_factory: pytest.TempPathFactory, runtime: str) -> Iterator[Path]:
    """One conversion cache for the session, so each stand-in is converted once.

    The stand-ins are exported with torch's TorchScript tracer, about twenty times faster than
    the dynamo exporter the bot uses; tests/engine/test_runtimes.py exports with dynamo too.
    """
    from bot.engine.runtimes import onnx_encoders
    from tests.engine import harness

    folder = tmp_path_factory.mktemp("converted")
    before = onnx_encoders.EXPORTER
    onnx_encoders.EXPORTER = "torchscript"
    harness.RUNTIME.update(name=runtime, cache_dir=folder)
    yield folder
    onnx_encoders.EXPORTER = before


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny models run fastest on one torch thread, above all on a busy two-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every task's tiny model, built once per test session."""
    return build_all(tmp_path_factory.mktemp("models"))


@pytest.fixture
def make_settings(
    tiny_models: dict[str, Path], tmp_path: Path, runtime: str, converted_dir: Path
) -> Callable[..., Settings]:
    """Settings pointing every task at its tiny model; keyword arguments override."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {f"model_{key}": str(tiny_models[key]) for key in TASK_KEYS}
        # No rate limit unless a test asks: suites send many requests as one user.
        # The CPU unless a test asks (tests/engine/test_cuda.py), so results match on GPU hosts.
        values.update(
            data_dir=tmp_path / "data", torch_threads=1, rate_limit_per_minute=0, device="cpu"
        )
        values.update(runtime=runtime, converted_dir=converted_dir)
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    eng = Engine(settings)
    yield eng
    await eng.close()


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    chat_store = await SQLiteStore.open(settings.database_path)
    yield chat_store
    await chat_store.close()


@pytest.fixture
def services(settings: Settings, engine: Engine, store: Store) -> Services:
    return Services(settings=settings, engine=engine, store=store, bot_username="TertuliaTestBot")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the Ray cluster is marked `ray`, so `-m "not ray"` leaves it out.

    Under pytest-xdist (`make test`: a worker per core, `--dist loadgroup`) a module's tests stay
    on one worker, sharing its module fixtures, and every Ray test goes to the same worker,
    so one cluster serves them all.
    """
    for item in items:
        ray = "ray_cluster" in getattr(item, "fixturenames", ())
        if ray:
            item.add_marker(pytest.mark.ray)
        group = "ray" if ray else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A local Ray cluster on loopback for the session (its address); skips without Ray."""
    with running_ray() as address:
        yield address


@pytest.fixture(scope="session")
def model_server(ray_cluster: str, tiny_models: dict[str, Path], runtime: str) -> Settings:
    """The model server deployed on `ray_cluster` with the tiny models; its settings.

    Its replica is tests/holding_server.py's, which holds an input starting with HOLD_PREFIX.
    It runs torch (the remote layer does not know the runtime), once per session.
    """
    if runtime != "torch":
        pytest.skip("the model server's tests run once, under --runtime torch")
    from bot.serve_models import deploy
    from tests.holding_server import HoldingModelServer, register_by_value

    values: dict[str, Any] = {f"model_{key}": str(tiny_models[key]) for key in TASK_KEYS}
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tiny_models[TASK_KEYS[0]].parent / "data",
        torch_threads=1,
        rate_limit_per_minute=0,
        device="cpu",
        runtime="torch",
        engine_backend="ray",
        ray_address=ray_cluster,
        **values,
    )
    register_by_value()
    deploy(settings, server_class=HoldingModelServer)
    return settings


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server (AOF on) for the session; skips, saying why, where there is none."""
    with RedisServer.running(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url


class FakeClock:
    """Stands in for the store's `time` module, so idle minutes and retention days pass at once."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(bot.store, "time", fake)
    return fake
