"""Summarisation: chunks and rounds for long texts, batching invariance, limits, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from bot.engine.errors import InvalidInput
from bot.engine.results import Summary
from bot.engine.tasks.base import LoadedModel
from bot.engine.tasks.summarization import MAX_ROUNDS, SummarizationTask
from tests.engine.harness import LoadedTasks, check_request, run_direct, run_loaded
from tests.tiny_models import spanish_corpus


def spanish_text(chars: int) -> str:
    """Deterministic Spanish prose of about `chars` characters, in paragraphs of six sentences."""
    parts: list[str] = []
    sentences = spanish_corpus()
    total = 0
    for i in range(10_000):
        sentence = sentences[i % len(sentences)] + ("\n\n" if (i + 1) % 6 == 0 else " ")
        parts.append(sentence)
        total += len(sentence)
        if total >= chars:
            break
    return "".join(parts).strip()


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> tuple[SummarizationTask, LoadedModel]:
    return loaded_tasks.get("summarize", SummarizationTask)


async def test_result_type_and_fields(
    tiny_models: dict[str, Path], loaded: tuple[SummarizationTask, LoadedModel]
) -> None:
    task, _ = loaded
    [result] = await run_direct("summarize", str(tiny_models["summarize"]), [task.smoke_input()])
    assert isinstance(result, Summary)
    assert isinstance(result.text, str) and result.text == result.text.strip()
    assert (result.chunks, result.rounds, result.truncated) == (1, 1, False)


async def test_batched_equals_one_by_one(loaded: tuple[SummarizationTask, LoadedModel]) -> None:
    inputs = ["Hola.", spanish_text(2500), "", spanish_text(600), "¿Dónde está el niño?"]
    alone, _ = await run_loaded(loaded, inputs, batch_size=1)
    together, ctx = await run_loaded(loaded, inputs)
    assert together == alone
    assert alone[1].chunks > 1 and alone[1].rounds == 2
    # Round one: every chunk of every text at once; round two: the one long text again.
    assert ctx.forward_calls == [alone[1].chunks + 3, 1]


async def test_long_text_is_summarised_in_rounds(
    loaded: tuple[SummarizationTask, LoadedModel],
) -> None:
    task, lm = loaded
    text = spanish_text(20_000)
    assert len(text) >= 20_000
    features = task.preprocess(lm, [text], task.parse_params({}).preprocess)
    assert len(features) > 3 and all(f.length <= lm.max_length for f in features)
    assert all(not f.meta["cut"] for f in features)
    results, ctx = await run_loaded(loaded, [text])
    [result] = results
    assert result.chunks == len(features)
    assert 2 <= result.rounds <= MAX_ROUNDS and result.truncated is False
    assert len(ctx.forward_calls) == result.rounds
    assert ctx.forward_calls[0] == result.chunks and ctx.forward_calls[-1] == 1


async def test_rounds_are_capped_and_the_rest_is_cut(
    loaded: tuple[SummarizationTask, LoadedModel],
) -> None:
    # Summaries as long as their chunks never shrink, so only the cap ends the rounds.
    text = spanish_text(2000)
    [result], ctx = await run_loaded(loaded, [text], max_new_tokens=300, min_new_tokens=300)
    assert result.rounds == MAX_ROUNDS and result.truncated is True
    assert len(ctx.forward_calls) == MAX_ROUNDS and ctx.forward_calls[-1] == 1


async def test_empty_and_blank_texts_need_no_forward(
    loaded: tuple[SummarizationTask, LoadedModel],
) -> None:
    results, ctx = await run_loaded(loaded, ["", "  \n\n "])
    assert ctx.forward_calls == []
    assert results == [Summary("", chunks=0, rounds=0, truncated=False)] * 2
    task, _ = loaded
    steps = task.parse_params({})
    assert task.answer_without_model(["", " "], steps) == results  # the engine skips the model
    assert task.answer_without_model(["", "Hola."], steps) is None


async def test_one_forward_per_batch(loaded: tuple[SummarizationTask, LoadedModel]) -> None:
    inputs = [f"El tren sale a las {h}:30. Llega a Córdoba por la tarde." for h in range(10)]
    results, ctx = await run_loaded(loaded, inputs)
    assert ctx.forward_calls == [10]
    assert all((r.chunks, r.rounds) == (1, 1) for r in results)
    _, small = await run_loaded(loaded, inputs, batch_size=4)
    assert small.forward_calls == [4, 4, 2]


async def test_generation_length_is_bounded(loaded: tuple[SummarizationTask, LoadedModel]) -> None:
    task, lm = loaded
    steps = task.parse_params({"max_new_tokens": 5, "min_new_tokens": 5})
    texts = ["María come una manzana.", spanish_text(400)]
    features = task.preprocess(lm, texts, steps.preprocess)
    with torch.inference_mode():
        raws = task.forward(lm, features, steps.forward)
    assert [len(ids) for ids in raws] == [5, 5]
    with torch.inference_mode():
        beams = task.forward(lm, features, {**steps.forward, "num_beams": 2})
    assert [len(ids) for ids in beams] == [5, 5]


async def test_validation_rejects_bad_input(loaded: tuple[SummarizationTask, LoadedModel]) -> None:
    task, _ = loaded
    cases: list[tuple[Any, dict[str, Any]]] = [
        ("una cadena", {}),
        ([None], {}),
        (["hola"], {"num_beams": 5}),
        (["hola"], {"max_new_tokens": 0}),
        (["hola"], {"max_new_tokens": 10_000}),
        (["hola"], {"max_new_tokens": 10, "min_new_tokens": 11}),
        (["hola"], {"min_new_tokens": -1}),
        (["hola"], {"length_penalty": 2.0}),
    ]
    for inputs, params in cases:
        with pytest.raises(InvalidInput):
            check_request(task, inputs, params)
    check_request(task, ["hola"], {"max_new_tokens": 64, "min_new_tokens": 8, "num_beams": 4})
