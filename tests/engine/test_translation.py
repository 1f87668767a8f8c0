"""Translation: sentence packing, paragraph structure, batching invariance, limits, validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch

from bot.engine.errors import InvalidInput
from bot.engine.registry import create_task
from bot.engine.results import Translation
from bot.engine.tasks.base import LoadedModel
from bot.engine.tasks.translation import MAX_PIECE_TOKENS, TranslationTask
from tests.engine.harness import LoadedTasks, check_request, run_direct, run_loaded
from tests.tiny_models import spanish_corpus

BREAKS = re.compile(r"\n[ \t]*\n\s*")


def spanish_text(chars: int, paragraph_every: int = 0) -> str:
    """Deterministic Spanish prose of about `chars` characters, optionally in paragraphs."""
    parts: list[str] = []
    sentences = spanish_corpus()
    total = 0
    for i in range(10_000):
        sentence = sentences[i % len(sentences)]
        end = "\n\n" if paragraph_every and (i + 1) % paragraph_every == 0 else " "
        parts.append(sentence + end)
        total += len(sentence) + len(end)
        if total >= chars:
            break
    return "".join(parts).strip()


@pytest.fixture
def es_en(loaded_tasks: LoadedTasks) -> tuple[TranslationTask, LoadedModel]:
    return loaded_tasks.get("translate_es_en", TranslationTask)


async def test_result_type_and_fields(tiny_models: dict[str, Path]) -> None:
    for key, source, target in [("translate_es_en", "es", "en"), ("translate_en_es", "en", "es")]:
        [result] = await run_direct(key, str(tiny_models[key]), ["Hola. ¿Qué tal estás hoy?"])
        assert isinstance(result, Translation)
        assert isinstance(result.text, str) and result.text == result.text.strip()
        assert (result.source, result.target) == (source, target)
        assert result.pieces == 1 and result.truncated is False


async def test_batched_equals_one_by_one(es_en: tuple[TranslationTask, LoadedModel]) -> None:
    inputs = [
        "Hola.",
        spanish_text(900, paragraph_every=3),
        "¿Dónde está el niño?",
        "",
        spanish_text(300),
        "María come una manzana, pero no en la cocina",
    ]
    alone, _ = await run_loaded(es_en, inputs, batch_size=1)
    together, ctx = await run_loaded(es_en, inputs, batch_size=64)
    assert together == alone
    assert len(ctx.forward_calls) == 1
    # The same text batched next to a longer one is unchanged too.
    pair, _ = await run_loaded(es_en, [inputs[0], spanish_text(1500)])
    assert pair[0] == alone[0]


async def test_beam_search_is_batch_invariant(es_en: tuple[TranslationTask, LoadedModel]) -> None:
    inputs = ["Hola.", spanish_text(400), "¡Qué bonito es el jardín!"]
    alone, _ = await run_loaded(es_en, inputs, batch_size=1, num_beams=2)
    together, _ = await run_loaded(es_en, inputs, num_beams=2)
    assert together == alone


async def test_long_text_is_translated_in_pieces(
    es_en: tuple[TranslationTask, LoadedModel],
) -> None:
    text = spanish_text(20_000, paragraph_every=7)
    assert len(text) >= 20_000
    results, ctx = await run_loaded(es_en, [text])
    [result] = results
    assert result.pieces > 10 and result.pieces == sum(ctx.forward_calls)
    assert result.truncated is False
    assert ctx.forward_calls == [min(64, result.pieces - i) for i in range(0, result.pieces, 64)]
    assert len(BREAKS.split(result.text)) == len(BREAKS.split(text))


async def test_pieces_fit_the_window(es_en: tuple[TranslationTask, LoadedModel]) -> None:
    task, lm = es_en
    text = spanish_text(6000) + " " + ", ".join(["María come una manzana"] * 120)
    features = task.preprocess(lm, [text], task.parse_params({}).preprocess)
    assert len(features) > 3
    # The budget counts sentences without special tokens; the piece adds its EOS.
    assert max(f.length for f in features) <= min(MAX_PIECE_TOKENS, lm.max_length * 3 // 4) + 1
    assert all(not f.meta["cut"] for f in features)


async def test_paragraphs_keep_their_exact_breaks(
    es_en: tuple[TranslationTask, LoadedModel],
) -> None:
    text = "Uno. Dos.\n\nTres.\n\n\nCuatro y cinco.\n \nSeis."
    [result], _ = await run_loaded(es_en, [text])
    assert BREAKS.findall(result.text) == BREAKS.findall(text) == ["\n\n", "\n\n\n", "\n \n"]
    assert result.pieces == 4


async def test_empty_and_blank_texts_need_no_forward(
    es_en: tuple[TranslationTask, LoadedModel],
) -> None:
    results, ctx = await run_loaded(es_en, ["", "   ", "\n\n \n"])
    assert ctx.forward_calls == []
    assert results == [Translation("", "es", "en", pieces=0, truncated=False)] * 3
    task, _ = es_en
    steps = task.parse_params({})
    assert task.answer_without_model(["", " "], steps) == results[:2]  # the engine skips the model
    assert task.answer_without_model(["", "Hola."], steps) is None


async def test_one_forward_per_batch(es_en: tuple[TranslationTask, LoadedModel]) -> None:
    inputs = [f"El tren sale a las {h}:30 y llega en Córdoba." for h in range(10)]
    results, ctx = await run_loaded(es_en, inputs)
    assert ctx.forward_calls == [10] and len(results) == 10
    _, small = await run_loaded(es_en, inputs, batch_size=4)
    assert small.forward_calls == [4, 4, 2]


async def test_max_new_tokens_caps_each_piece(es_en: tuple[TranslationTask, LoadedModel]) -> None:
    task, lm = es_en
    inputs = [spanish_text(2000, paragraph_every=4), "Hola."]
    steps = task.parse_params({"max_new_tokens": 4})
    features = task.preprocess(lm, inputs, steps.preprocess)
    assert {f.meta["limit"] for f in features} == {4}
    with torch.inference_mode():
        raws = task.forward(lm, features, steps.forward)
    assert len(raws) == len(features) and all(1 <= len(ids) <= 4 for ids in raws)
    results, _ = await run_loaded(es_en, inputs, max_new_tokens=4)
    # The random model never stops by itself, so the explicit cap is a real cut.
    assert results[0].truncated is True and results[0].pieces > 1


async def test_sentence_that_alone_is_too_long_is_split(
    es_en: tuple[TranslationTask, LoadedModel],
) -> None:
    text = " ".join(["María come una manzana en la cocina"] * 120)  # no punctuation at all
    [result], ctx = await run_loaded(es_en, [text])
    assert result.pieces > 1 and result.pieces == sum(ctx.forward_calls)
    assert result.truncated is False


async def test_validation_rejects_bad_input(es_en: tuple[TranslationTask, LoadedModel]) -> None:
    task, _ = es_en
    cases: list[tuple[Any, dict[str, Any]]] = [
        ("una cadena", {}),
        ([1, 2], {}),
        (["hola"], {"num_beams": 5}),
        (["hola"], {"num_beams": 0}),
        (["hola"], {"max_new_tokens": 0}),
        (["hola"], {"max_new_tokens": True}),
        (["hola"], {"temperature": 0.7}),
    ]
    for inputs, params in cases:
        with pytest.raises(InvalidInput):
            check_request(task, inputs, params)
    check_request(task, ["hola"], {"num_beams": 4, "max_new_tokens": 64})


def test_smoke_input_is_in_the_source_language() -> None:
    assert "¿" in create_task("translate_es_en").smoke_input()
    assert "how" in create_task("translate_en_es").smoke_input()
