"""mT5 never runs in float16: bfloat16 where the GPU computes in it, float32 elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bot.config import Settings
from bot.engine import Engine
from bot.engine.loading import load_model, model_dtype
from bot.engine.registry import HALF_PRECISION_UNSAFE, create_task

CUDA = torch.device("cuda", 0)
CPU = torch.device("cpu")


def fake_capability(monkeypatch: pytest.MonkeyPatch, capability: tuple[int, int]) -> None:
    """A GPU of this compute capability, without one on the machine."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)


@pytest.mark.parametrize(
    ("capability", "expected"),
    [((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16), ((7, 5), torch.float32)],
)
def test_mt5_in_float16_gets_bfloat16_only_where_the_gpu_computes_in_it(
    monkeypatch: pytest.MonkeyPatch, capability: tuple[int, int], expected: torch.dtype
) -> None:
    fake_capability(monkeypatch, capability)
    for model_type in HALF_PRECISION_UNSAFE:
        assert model_dtype(torch.float16, model_type, CUDA) == expected


def test_other_models_and_other_dtypes_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_capability(monkeypatch, (7, 5))
    assert model_dtype(torch.float16, "marian", CUDA) == torch.float16
    assert model_dtype(torch.bfloat16, "mt5", CUDA) == torch.bfloat16
    assert model_dtype(torch.float32, "mt5", CUDA) == torch.float32
    # A CPU computes bfloat16 slowly, if at all: float32 there.
    assert model_dtype(torch.float16, "mt5", CPU) == torch.float32


def test_mt5_is_on_the_list() -> None:
    assert "mt5" in HALF_PRECISION_UNSAFE


async def test_dtype_float16_loads_the_mt5_stand_in_in_float32_on_the_cpu(
    make_settings: Callable[..., Settings], tiny_models: dict[str, Path]
) -> None:
    engine = Engine(make_settings(dtype="float16"))
    try:
        [summary] = await engine.run("summarize", ["El tren sale a las ocho."], max_new_tokens=4)
        status = engine.status()
    finally:
        await engine.close()
    assert summary.text
    assert status.dtype == "float16"  # the engine's setting...
    assert status.models["summarize"].dtype == "float32"  # ...and what the model really runs in
    marian = load_model(
        create_task("translate_es_en"),
        "translate_es_en",
        str(tiny_models["translate_es_en"]),
        CPU,
        torch.float16,
    )
    assert marian.dtype == torch.float16 and marian.model.dtype == torch.float16
