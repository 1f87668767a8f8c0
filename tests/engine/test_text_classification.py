"""Sentiment classification: ranked labels, windows for long texts, batching-independent results."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.labels import SENTIMENT_LABELS
from bot.engine.registry import ModelTraits
from bot.engine.results import Classification
from bot.engine.tasks.base import LoadedModel, Task
from bot.engine.tasks.sentences import split_sentences
from bot.engine.tasks.text_classification import TextClassificationTask, special_frame
from bot.engine.text_preprocessing import PYSENTIMIENTO, normalize_text, preprocess_tweet
from tests.engine.harness import LoadedTasks, check_request, run_loaded

LONG_TEXT = (
    "Me encanta este día 😊 #felicidad @amiga. Qué asco de tráfico 😡 otra vez tarde... "
    "No sé qué pensar de la película, ni buena ni mala.\n"
) * 200
LONG_TEXT = LONG_TEXT[:20_000]
ODD_TEXTS = [
    "😊😡👍🏽",
    "@usuario http://t.co/x #tag :)",
    "¿¡!?...",
    "ñ" * 600,
    "a\u200bb \ufeff\u0301",
]


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> tuple[Task, LoadedModel]:
    return loaded_tasks.get("sentiment", TextClassificationTask)


def assert_ranked(result: Classification) -> None:
    assert isinstance(result, Classification)
    assert {item.label for item in result.labels} == set(SENTIMENT_LABELS)
    scores = [item.score for item in result.labels]
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0, abs=1e-4)
    assert result.best == result.labels[0]
    assert not result.truncated


async def test_every_label_is_scored_best_first(loaded: tuple[Task, LoadedModel]) -> None:
    inputs = ["¡Qué día tan bonito!", "This is the worst service ever."]
    results, _ = await run_loaded(loaded, inputs)
    assert len(results) == 2
    for result in results:
        assert_ranked(result)


async def test_batched_equals_one_by_one(loaded: tuple[Task, LoadedModel]) -> None:
    inputs = ["Hola", "I love this song so much! :)", LONG_TEXT[:3000], *ODD_TEXTS]
    together, _ = await run_loaded(loaded, inputs, batch_size=3)
    alone = [(await run_loaded(loaded, [text], batch_size=1))[0][0] for text in inputs]
    assert together == alone


async def test_long_text_is_read_whole_in_windows(loaded: tuple[Task, LoadedModel]) -> None:
    _, lm = loaded
    features = TextClassificationTask().preprocess(lm, [LONG_TEXT], {})
    assert len(features) > 1
    assert all(f.length <= lm.max_length for f in features)
    as_read = normalize_text(lm.traits.text_preprocessing, LONG_TEXT)
    pieces = lm.tokenizer(split_sentences(as_read), add_special_tokens=False)["input_ids"]
    windows = [f.input_ids[1:-1] for f in features]  # without <s> and </s>
    assert [t for w in windows for t in w] == [t for p in pieces for t in p]  # no token left out
    assert [f.meta["weight"] for f in features] == [len(w) for w in windows]
    results, ctx = await run_loaded(loaded, [LONG_TEXT, "Hola"])
    assert sum(ctx.forward_calls) == len(features) + 1  # all windows in one forward
    assert_ranked(results[0])


async def test_odd_text_and_emoji(loaded: tuple[Task, LoadedModel]) -> None:
    results, _ = await run_loaded(loaded, ODD_TEXTS)
    for result in results:
        assert_ranked(result)


@pytest.mark.parametrize(
    ("inputs", "params"),
    [("texto suelto", {}), ([3], {}), (["  "], {}), (["hola"], {"fast": True})],
)
def test_validate_rejects_malformed_input(inputs: Any, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        check_request(TextClassificationTask(), inputs, params)


def test_needs_no_model_hook_defaults_to_none(tmp_path: Path) -> None:
    task = TextClassificationTask()
    assert task.answer_without_model(["hola"], task.parse_params({})) is None


TWEET = "@ana_perez mira esto https://t.co/LvRc5JJxvJ 😊 jajajaja qué bieeeeen #BuenDía"


def test_the_robertuito_stand_in_asks_for_pysentimiento(loaded: tuple[Task, LoadedModel]) -> None:
    assert loaded[1].traits.text_preprocessing == PYSENTIMIENTO


@pytest.mark.parametrize("style", [PYSENTIMIENTO, ""])
def test_the_model_reads_the_text_as_it_was_trained_to(
    loaded: tuple[Task, LoadedModel], style: str
) -> None:
    lm = dataclasses.replace(loaded[1], traits=ModelTraits(text_preprocessing=style))
    [feature] = TextClassificationTask().preprocess(lm, [TWEET], {})
    expected = preprocess_tweet(TWEET) if style else TWEET
    ids = lm.tokenizer(expected, add_special_tokens=False)["input_ids"]
    prefix, suffix = special_frame(lm.tokenizer)
    assert feature.input_ids == prefix + list(ids) + suffix


@pytest.mark.parametrize(
    "names",
    [
        ["negative", "neutral", "positive"],
        ["LABEL_0", "LABEL_1", "LABEL_2"],
        ["NEG", "NEU", "POS"],
    ],
)
async def test_labels_come_out_under_one_name(
    loaded: tuple[Task, LoadedModel], monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    _, lm = loaded
    monkeypatch.setattr(lm.model.config, "id2label", dict(enumerate(names)))
    [result], _ = await run_loaded(loaded, ["¡Qué día tan bonito!"])
    assert_ranked(result)


async def test_two_spellings_of_one_label_add_up(
    loaded: tuple[Task, LoadedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lm = loaded
    monkeypatch.setattr(lm.model.config, "id2label", {0: "NEG", 1: "positive", 2: "POS"})
    [result], _ = await run_loaded(loaded, ["¡Qué día tan bonito!"])
    assert [item.label for item in result.labels] in (["POS", "NEG"], ["NEG", "POS"])
    assert sum(item.score for item in result.labels) == pytest.approx(1.0, abs=1e-4)
