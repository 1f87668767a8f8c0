"""A new task is one module and one registry row: the engine loads, batches and reports it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bot.config import Settings
from bot.engine import Engine, InvalidInput, registry
from bot.engine.registry import TaskSpec
from tests.engine.embedding_task import Embedding
from tests.engine.harness import before_forward
from tests.tiny_models import HIDDEN

TEXTS = [
    "María come una manzana en la cocina.",
    "El tren sale a las ocho.",
    "Hoy hace un día precioso para pasear por el parque con los amigos.",
    "¿Dónde vive Ana?",
    "Los niños juegan.",
    "Mañana vamos a la playa.",
]


@pytest.fixture
def embed_row(tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> TaskSpec:
    """The one row: key, description, default model (a tiny BERT folder) and the task class."""
    spec = TaskSpec(
        "embed",
        "sentence embeddings",
        str(tiny_models["zero_shot"]),
        "tests.engine.embedding_task:EmbeddingTask",
    )
    monkeypatch.setitem(registry.SPECS, spec.key, spec)
    return spec


async def test_an_eleventh_task_runs_batched_through_the_engine(
    embed_row: TaskSpec, make_settings: Callable[..., Settings]
) -> None:
    engine = Engine(make_settings(batch_wait_ms=500))
    grad_modes: list[bool] = []
    before_forward(engine, "embed", lambda _: grad_modes.append(torch.is_inference_mode_enabled()))
    try:
        together = await asyncio.gather(*(engine.run("embed", [text]) for text in TEXTS))
        status = engine.status().models["embed"]
        alone = [await engine.run("embed", [text]) for text in TEXTS]
        raw = await engine.run("embed", TEXTS[:1], normalize=False)
        with pytest.raises(InvalidInput):
            await engine.run("embed", TEXTS[:1], normalise=False)
    finally:
        await engine.close()
    # Unconfigured, the engine took the row's default model, and the queue merged the requests.
    assert status.model == embed_row.default_model and status.loaded
    assert status.requests == len(TEXTS)
    assert status.batches < len(TEXTS) and (status.mean_batch_size or 0) > 1
    assert grad_modes and all(grad_modes)  # the worker, not the task, turns autograd off
    for [batched], [single] in zip(together, alone, strict=True):
        assert isinstance(batched, Embedding) and len(batched.vector) == HIDDEN
        assert math.isclose(math.hypot(*batched.vector), 1.0, rel_tol=1e-5)
        assert batched.vector == pytest.approx(single.vector, abs=1e-5)
        assert batched.truncated is False
    assert math.hypot(*raw[0].vector) != pytest.approx(1.0)
    assert [x / math.hypot(*raw[0].vector) for x in raw[0].vector] == pytest.approx(
        together[0][0].vector, abs=1e-5
    )
