"""Generation settings: the model's own, under GENERATION_<KEY>, under the caller's; caps hold."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import (
    GenerationMixin,
    GPT2LMHeadModel,
    MarianMTModel,
    MT5ForConditionalGeneration,
)

from bot.config import Settings
from bot.engine import Engine
from bot.engine.runtimes.ctranslate2_models import Ct2Causal, Ct2Seq2Seq
from bot.engine.tasks.summarization import (
    FALLBACK_MAX_NEW_TOKENS,
    SummarizationTask,
    summary_lengths,
)
from bot.engine.tasks.text_generation import DEFAULTS, TextGenerationTask
from bot.engine.tasks.translation import MAX_BEAMS, TranslationTask
from tests.engine.harness import load_task, run_loaded

Calls = list[dict[str, Any]]


@pytest.fixture
def model_with(tiny_models: dict[str, Path], tmp_path: Path) -> Callable[..., Path]:
    """A copy of a task's tiny model whose generation_config.json says something else.

    A value of None removes the key, as if the model did not publish it.
    """

    def make(key: str, **settings: Any) -> Path:
        folder = tmp_path / f"{key}-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(tiny_models[key], folder)
        path = folder / "generation_config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        config.update(settings)
        config = {name: value for name, value in config.items() if value is not None}
        path.write_text(json.dumps(config), encoding="utf-8")
        return folder

    return make


def spy_generate(monkeypatch: pytest.MonkeyPatch, model_class: type[GenerationMixin]) -> Calls:
    """Record the keyword arguments of every `generate` call of a model class, or of the
    CTranslate2 stand-in that takes its place under --runtime auto."""
    calls: Calls = []
    for spied in (model_class, Ct2Seq2Seq, Ct2Causal):
        original = spied.generate

        def generate(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(spied, "generate", generate)
    return calls


# Translation
async def test_translation_uses_the_beams_the_model_publishes(
    model_with: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_generate(monkeypatch, MarianMTModel)
    loaded = load_task("translate_es_en", str(model_with("translate_es_en", num_beams=3)))
    await run_loaded(loaded, ["Hola, ¿qué tal?"])
    await run_loaded(loaded, ["Hola, ¿qué tal?"], num_beams=1)
    assert [call["num_beams"] for call in calls] == [3, 1]


async def test_translation_caps_published_beams_and_is_greedy_without_any(
    model_with: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_generate(monkeypatch, MarianMTModel)
    many = load_task("translate_es_en", str(model_with("translate_es_en", num_beams=12)))
    none = load_task("translate_es_en", str(model_with("translate_es_en", num_beams=None)))
    await run_loaded(many, ["Hola."])
    await run_loaded(none, ["Hola."])
    assert [call["num_beams"] for call in calls] == [MAX_BEAMS, 1]


async def test_published_beams_keep_batched_equal_to_one_by_one(
    model_with: Callable[..., Path],
) -> None:
    loaded = load_task("translate_es_en", str(model_with("translate_es_en", num_beams=3)))
    inputs = ["Hola.", "María come una manzana en la cocina. " * 4, "¡Qué bonito es el jardín!"]
    alone, _ = await run_loaded(loaded, inputs, batch_size=1)
    together, ctx = await run_loaded(loaded, inputs)
    assert together == alone and len(ctx.forward_calls) == 1


def test_requests_that_set_nothing_share_a_batch() -> None:
    """Unset parameters stay None until the forward reads the model's: one batch key for all."""
    task = TranslationTask("es", "en")
    assert task.parse_params({}).forward == {"num_beams": None}
    assert task.parse_params({"num_beams": 2}).forward == {"num_beams": 2}


async def test_generation_setting_beats_the_model_and_the_caller_beats_both(
    make_settings: Callable[..., Settings],
    model_with: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = spy_generate(monkeypatch, MarianMTModel)
    folder = model_with("translate_es_en", num_beams=3)
    settings = make_settings(
        model_translate_es_en=str(folder), generation_translate_es_en="num_beams=2"
    )
    engine = Engine(settings)
    try:
        await engine.run("translate_es_en", ["Hola."])
        await engine.run("translate_es_en", ["Hola."], num_beams=1)
    finally:
        await engine.close()
    assert [call["num_beams"] for call in calls] == [2, 1]


# Summaries
async def test_summaries_use_the_published_beams_and_length(
    model_with: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_generate(monkeypatch, MT5ForConditionalGeneration)
    folder = model_with(
        "summarize", num_beams=3, max_length=9, max_new_tokens=None, no_repeat_ngram_size=1
    )
    loaded = load_task("summarize", str(folder))
    task, lm = loaded
    assert isinstance(task, SummarizationTask)
    # A total length counts the decoder start token: 9 is 8 new tokens.
    assert lm.model.generation_config.max_length is None
    steps = task.parse_params({})
    features = task.preprocess(lm, ["El tren sale a las ocho. María compra pan."], steps.preprocess)
    with torch.inference_mode():
        [ids] = task.forward(lm, features, steps.forward)
    assert (calls[0]["num_beams"], calls[0]["max_new_tokens"]) == (3, 8)
    # no_repeat_ngram_size, which the task never passes, reaches generate from the model: with
    # 1, no token appears twice in a summary.
    assert len(ids) > 0 and len(set(ids)) == len(ids)


async def test_summaries_without_published_settings_fall_back(
    model_with: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_generate(monkeypatch, MT5ForConditionalGeneration)
    folder = model_with("summarize", num_beams=None, max_length=None, max_new_tokens=None)
    loaded = load_task("summarize", str(folder))
    await run_loaded(loaded, ["Hola."], max_new_tokens=4)
    steps = loaded[0].parse_params({})
    assert summary_lengths(loaded[1], steps.forward) == (FALLBACK_MAX_NEW_TOKENS, 0)
    assert (calls[0]["num_beams"], calls[0]["max_new_tokens"]) == (1, 4)


async def test_summary_setting_overrides_the_model(
    make_settings: Callable[..., Settings],
    model_with: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = spy_generate(monkeypatch, MT5ForConditionalGeneration)
    settings = make_settings(
        model_summarize=str(model_with("summarize", num_beams=4, max_length=84)),
        generation_summarize="num_beams=2,max_new_tokens=6",
    )
    engine = Engine(settings)
    try:
        await engine.run("summarize", ["El tren sale a las ocho."])
        await engine.run("summarize", ["El tren sale a las ocho."], max_new_tokens=3)
    finally:
        await engine.close()
    assert [(c["num_beams"], c["max_new_tokens"]) for c in calls] == [(2, 6), (2, 3)]


# Poems
async def test_poems_use_the_published_settings_and_still_sample(
    model_with: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_generate(monkeypatch, GPT2LMHeadModel)
    folder = model_with(
        "poem",
        max_new_tokens=7,
        temperature=0.5,
        top_p=0.8,
        repetition_penalty=1.5,
        do_sample=False,
    )
    loaded = load_task("poem", str(folder))
    assert isinstance(loaded[0], TextGenerationTask)
    [poem], _ = await run_loaded(loaded, ["El mar"], seed=3)
    [call] = calls
    assert call["do_sample"] is True  # "Otro" needs a different poem each time
    assert (call["max_new_tokens"], call["temperature"], call["top_p"]) == (7, 0.5, 0.8)
    assert call["repetition_penalty"] == 1.5 and poem.new_tokens <= 7


async def test_poems_without_published_settings_get_the_defaults(
    model_with: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_generate(monkeypatch, GPT2LMHeadModel)
    loaded = load_task("poem", str(model_with("poem", max_new_tokens=None)))
    await run_loaded(loaded, ["El mar"], seed=3)
    [call] = calls
    expected = {name: DEFAULTS[name] for name in ("max_new_tokens", "temperature", "top_p")}
    assert {name: call[name] for name in expected} == expected


async def test_poem_setting_overrides_the_model_and_the_caller_beats_it(
    make_settings: Callable[..., Settings],
    model_with: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = spy_generate(monkeypatch, GPT2LMHeadModel)
    settings = make_settings(
        model_poem=str(model_with("poem", max_new_tokens=7)),
        generation_poem="max_new_tokens=5,temperature=0.7",
    )
    engine = Engine(settings)
    try:
        await engine.run("poem", ["El mar"], seed=1)
        await engine.run("poem", ["El mar"], seed=1, max_new_tokens=3, do_sample=False)
    finally:
        await engine.close()
    assert (calls[0]["max_new_tokens"], calls[0]["temperature"]) == (5, 0.7)
    assert (calls[1]["max_new_tokens"], calls[1]["do_sample"]) == (3, False)
    assert "temperature" not in calls[1]
