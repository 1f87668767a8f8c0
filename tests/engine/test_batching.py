"""Batching through the engine's real queue gives the same results as one request at a time."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.engine.results import QAInput, ZeroShotInput
from tests.engine.harness import hold_forward

TEXTS = [
    "Hola",
    "Me encanta este libro, lo leí en dos días.",
    "El tren de las ocho llegó tarde otra vez y nadie en la estación dijo nada al respecto.",
    "¿Vamos mañana?",
    "La reunión empieza a las diez. Después comeremos juntos en el restaurante de la esquina.",
    "Odio los lunes",
]
CONTEXT = "Ana nació en Zaragoza en 1990. Estudió en Madrid y ahora trabaja en Lima como médica."

INPUTS: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "translate_es_en": (TEXTS, {}),
    "translate_en_es": (["Hello there", "The train was late again today.", "Good night"], {}),
    "summarize": (TEXTS, {"max_new_tokens": 12}),
    "qa": ([QAInput(q, CONTEXT) for q in ("¿Dónde nació?", "¿Qué estudió?", "¿Dónde vive?")], {}),
    "zero_shot": ([ZeroShotInput(t, ("deportes", "política", "cultura")) for t in TEXTS], {}),
    "fill_mask": ([f"{t} <mask>." for t in TEXTS], {}),
    "poem": (TEXTS, {"do_sample": False, "max_new_tokens": 12}),
    "pos": (TEXTS, {}),
    "sentiment": (TEXTS, {}),
    "language": (TEXTS, {}),
}


def same(a: Any, b: Any, path: str = "") -> None:
    """Equal results: exact for text and structure, within float noise for scores."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-4), path
    else:
        assert a == b, path


@pytest.mark.parametrize("task", list(INPUTS))
async def test_batched_results_equal_one_at_a_time(
    make_settings: Callable[..., Settings], task: str
) -> None:
    inputs, params = INPUTS[task]
    alone = Engine(make_settings(batch_max_size=1))
    together = Engine(make_settings(batch_max_size=32))
    try:
        expected = [(await alone.run(task, [item], **params))[0] for item in inputs]
        await together.run(task, [inputs[0]], **params)  # load it
        _, release = hold_forward(together, task)
        jobs = [asyncio.create_task(together.run(task, [item], **params)) for item in inputs]
        await asyncio.sleep(0.2)  # everything queues behind the held first batch
        release.set()
        got = [(await job)[0] for job in jobs]
        stats = together.status().models[task]
    finally:
        await alone.close()
        await together.close()
    same(expected, got)
    assert stats.mean_batch_size > 1, "the requests were not batched"
