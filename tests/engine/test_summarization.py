"""Summarisation: chunk summaries in order, rounds only when they are too many or too long."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from bot.engine.errors import InvalidInput
from bot.engine.results import Summary
from bot.engine.tasks.base import LoadedModel
from bot.engine.tasks.summarization import (
    MAX_JOINED,
    MAX_ROUNDS,
    SummarizationTask,
    join_summaries,
)
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


def chunk_summaries(
    loaded: tuple[SummarizationTask, LoadedModel], text: str, **params: Any
) -> list[str]:
    """Each chunk of a text summarised on its own, in text order."""
    task, lm = loaded
    steps = task.parse_params(params)
    summaries = []
    for feature in task.preprocess(lm, [text], steps.preprocess):
        with torch.inference_mode():
            [ids] = task.forward(lm, [feature], steps.forward)
        summaries.append(lm.tokenizer.decode(ids, skip_special_tokens=True).strip())
    return summaries


async def test_batched_equals_one_by_one(loaded: tuple[SummarizationTask, LoadedModel]) -> None:
    inputs = ["Hola.", spanish_text(2500), "", spanish_text(600), "¿Dónde está el niño?"]
    alone, _ = await run_loaded(loaded, inputs, batch_size=1)
    together, ctx = await run_loaded(loaded, inputs)
    assert together == alone
    assert alone[1].chunks > 1 and alone[1].rounds == 1
    # One round: every chunk of every text at once, the long text's summaries are the answer.
    assert ctx.forward_calls == [alone[1].chunks + 3]


async def test_a_few_chunk_summaries_are_the_summary_in_text_order(
    loaded: tuple[SummarizationTask, LoadedModel],
) -> None:
    text = spanish_text(5000)
    summaries = chunk_summaries(loaded, text, max_new_tokens=8)
    assert 1 < len(summaries) <= MAX_JOINED
    [result], ctx = await run_loaded(loaded, [text], max_new_tokens=8)
    assert result.text == join_summaries(summaries)
    assert (result.chunks, result.rounds, result.truncated) == (len(summaries), 1, False)
    assert ctx.forward_calls == [len(summaries)]


async def test_too_many_chunk_summaries_are_summarised_again(
    loaded: tuple[SummarizationTask, LoadedModel],
) -> None:
    text = spanish_text(20_000)
    [result], ctx = await run_loaded(loaded, [text], max_new_tokens=8)
    # Short summaries that fit one window, but more than MAX_JOINED: one more round.
    assert result.chunks > MAX_JOINED
    assert (result.rounds, result.truncated) == (2, False)
    assert ctx.forward_calls == [result.chunks, 1]


async def test_chunk_summaries_too_long_for_one_window_are_summarised_again(
    loaded: tuple[SummarizationTask, LoadedModel],
) -> None:
    text = spanish_text(5000)
    [result], ctx = await run_loaded(loaded, [text], max_new_tokens=120, min_new_tokens=120)
    assert 1 < result.chunks <= MAX_JOINED
    assert 2 <= result.rounds <= MAX_ROUNDS and result.truncated is False
    assert len(ctx.forward_calls) == result.rounds and ctx.forward_calls[0] == result.chunks


def test_joined_summaries_read_as_sentences() -> None:
    assert join_summaries(["Sube el pan"]) == "Sube el pan"
    assert join_summaries(["Sube el pan", "", "¿Y el aceite?", "«Baja», dice."]) == (
        "Sube el pan. ¿Y el aceite? «Baja», dice."
    )


async def test_long_text_is_read_whole(loaded: tuple[SummarizationTask, LoadedModel]) -> None:
    task, lm = loaded
    text = spanish_text(20_000)
    assert len(text) >= 20_000
    features = task.preprocess(lm, [text], task.parse_params({}).preprocess)
    assert len(features) > 3 and all(f.length <= lm.max_length for f in features)
    assert all(not f.meta["cut"] for f in features)
    results, ctx = await run_loaded(loaded, [text])
    [result] = results
    assert result.chunks == len(features)
    assert 1 <= result.rounds <= MAX_ROUNDS and result.truncated is False
    assert len(ctx.forward_calls) == result.rounds and ctx.forward_calls[0] == result.chunks


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
