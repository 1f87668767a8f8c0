"""The CUDA path: half precision, the memory budget and real freeing on a GPU.

Skipped without a GPU; run on a GPU machine with `python -m pytest tests/engine/test_cuda.py`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bot.config import Settings
from bot.engine import Engine
from bot.engine.registry import TASK_KEYS, create_task
from bot.engine.results import Classification

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def build_bert_base(folder: Path, tiny_zero_shot: Path) -> Path:
    """A full-size BERT-base classifier (random weights): big enough to see in the allocator."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_zero_shot)
    config = BertConfig(
        num_labels=3,
        id2label={0: "NEG", 1: "NEU", 2: "POS"},
        label2id={"NEG": 0, "NEU": 1, "POS": 2},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


async def test_every_task_runs_in_half_precision(make_settings: Callable[..., Settings]) -> None:
    engine = Engine(make_settings(device="cuda", dtype="auto"))
    try:
        for task in TASK_KEYS:
            assert len(await engine.run(task, [create_task(task).smoke_input()])) == 1, task
        status = engine.status()
        assert status.device.startswith("cuda") and status.dtype == "float16"
        # mT5 overflows in float16: it gets bfloat16 on GPUs that compute in it, else float32.
        safe = "bfloat16" if torch.cuda.get_device_capability() >= (8, 0) else "float32"
        for key, model in status.models.items():
            assert model.loaded and model.dtype == (safe if key == "summarize" else "float16"), key
            assert model.device.startswith("cuda"), key
    finally:
        await engine.close()


async def test_half_precision_halves_the_measured_bytes(
    make_settings: Callable[..., Settings],
) -> None:
    on_cpu = Engine(make_settings(device="cpu"))
    on_gpu = Engine(make_settings(device="cuda"))
    try:
        await on_cpu.run("pos", ["hola"])
        await on_gpu.run("pos", ["hola"])
        cpu_bytes = on_cpu.status().models["pos"].bytes
        gpu_bytes = on_gpu.status().models["pos"].bytes
    finally:
        await on_cpu.close()
        await on_gpu.close()
    assert gpu_bytes == pytest.approx(cpu_bytes / 2, rel=0.05)


async def test_batched_equals_one_by_one_on_the_gpu(
    make_settings: Callable[..., Settings],
) -> None:
    import asyncio

    texts = ["Me encanta", "Odio los lunes por la mañana", "Hola", "El tren llegó tarde otra vez"]
    alone = Engine(make_settings(device="cuda", batch_max_size=1))
    together = Engine(make_settings(device="cuda", batch_max_size=32))
    try:
        expected = [(await alone.run("sentiment", [t]))[0] for t in texts * 4]
        got = [
            r[0] for r in await asyncio.gather(*(together.run("sentiment", [t]) for t in texts * 4))
        ]
    finally:
        await alone.close()
        await together.close()
    for a, b in zip(expected, got, strict=True):
        assert isinstance(b, Classification)
        for x, y in zip(a.labels, b.labels, strict=True):
            assert x.score == pytest.approx(y.score, abs=5e-3)


async def test_budget_and_eviction_free_gpu_memory_for_real(
    make_settings: Callable[..., Settings], tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    big = build_bert_base(tmp_path / "bert-base", tiny_models["zero_shot"])
    other = tmp_path / "bert-base-2"
    shutil.copytree(big, other)
    torch.cuda.empty_cache()
    baseline = torch.cuda.memory_allocated()
    # fp16 BERT-base is ~210 MB: the budget holds one, not two.
    engine = Engine(
        make_settings(
            device="cuda", model_memory_mb=350, model_sentiment=str(big), model_language=str(other)
        )
    )
    try:
        await engine.run("sentiment", ["uno"])
        one = torch.cuda.memory_allocated() - baseline
        measured = engine.status().models["sentiment"].bytes
        assert measured > 150 * 2**20
        assert one == pytest.approx(measured, rel=0.1)
        await engine.run("language", ["dos"])
        status = engine.status()
        assert not status.models["sentiment"].loaded
        assert status.models["language"].loaded
        assert status.used_bytes <= 350 * 2**20
        # The evicted model's memory went back: only one model's worth is allocated.
        assert torch.cuda.memory_allocated() - baseline == pytest.approx(one, rel=0.1)
        engine.unload("language")
        assert torch.cuda.memory_allocated() - baseline < 5 * 2**20
    finally:
        await engine.close()
