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
from tests.redis_server import RedisServer
from tests.tiny_models import build_all

hf_logging.disable_progress_bar()


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
def make_settings(tiny_models: dict[str, Path], tmp_path: Path) -> Callable[..., Settings]:
    """Settings pointing every task at its tiny model; keyword arguments override."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {f"model_{key}": str(tiny_models[key]) for key in TASK_KEYS}
        # No rate limit unless a test asks: suites send many requests as one user.
        # The CPU unless a test asks (tests/engine/test_cuda.py), so results match on GPU hosts.
        values.update(
            data_dir=tmp_path / "data", torch_threads=1, rate_limit_per_minute=0, device="cpu"
        )
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
