"""Language identification: Spanish names, batch-independent results, fast mode with no model."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.languages import LANGUAGE_NAMES_ES
from bot.engine.registry import create_task
from bot.engine.tasks.base import LoadedModel, Task
from bot.engine.tasks.language import LanguageTask
from tests.engine.harness import LoadedTasks, run_loaded
from tests.tiny_models import LANGUAGE_LABELS

SPANISH = "Hola, ¿qué tal estás hoy? Mañana vamos a la playa con mis amigos."
ENGLISH = "The weather is lovely today, so we are going to the beach with our friends."
LONG_TEXT = (SPANISH + " " + ENGLISH + "\n") * 150


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> tuple[Task, LoadedModel]:
    return loaded_tasks.get("language", LanguageTask)


async def test_every_code_is_ranked_with_its_spanish_name(
    loaded: tuple[Task, LoadedModel],
) -> None:
    results, _ = await run_loaded(loaded, [SPANISH, "😊 👍🏽", LONG_TEXT[:20_000]])
    for result in results:
        assert {item.label for item in result.labels} == set(LANGUAGE_LABELS)
        scores = [item.score for item in result.labels]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert all(item.name == LANGUAGE_NAMES_ES[item.label] for item in result.labels)
        assert not result.truncated
    names = {item.label: item.name for item in results[0].labels}
    assert names["es"] == "español" and names["en"] == "inglés"


async def test_batched_equals_one_by_one(loaded: tuple[Task, LoadedModel]) -> None:
    inputs = [SPANISH, ENGLISH, LONG_TEXT[:2500], "123", "🇪🇸🇬🇧"]
    together, _ = await run_loaded(loaded, inputs, batch_size=4)
    alone = [(await run_loaded(loaded, [text], batch_size=1))[0][0] for text in inputs]
    assert together == alone


def test_fast_mode_needs_no_model_at_all() -> None:
    task = create_task("language")  # nothing loaded: there is no model folder in this test
    results = task.answer_without_model([SPANISH, ENGLISH], {"fast": True})
    assert results is not None
    assert [r.best.label for r in results] == ["es", "en"]
    assert [r.best.name for r in results] == ["español", "inglés"]
    for result in results:
        scores = [item.score for item in result.labels]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)


def test_fast_mode_without_letters_is_undetermined() -> None:
    results = LanguageTask().answer_without_model(["😊😊", "12345"], {"fast": True})
    assert results is not None
    for result in results:
        assert len(result.labels) == 1
        assert (result.best.label, result.best.score, result.best.name) == (
            "und", 0.0, "desconocido",
        )  # fmt: skip


def test_model_mode_gives_no_early_answer() -> None:
    assert LanguageTask().answer_without_model([SPANISH], {}) is None
    assert LanguageTask().answer_without_model([SPANISH], {"fast": False}) is None


async def test_fast_mode_through_run_skips_the_forward(loaded: tuple[Task, LoadedModel]) -> None:
    results, ctx = await run_loaded(loaded, [SPANISH], fast=True)
    assert results[0].best.label == "es"
    assert ctx.forward_calls == []


@pytest.mark.parametrize(
    ("inputs", "params"),
    [(SPANISH, {}), ([None], {}), ([""], {}), ([SPANISH], {"fast": "yes"}), ([SPANISH], {"x": 1})],
)
def test_validate_rejects_malformed_input(inputs: Any, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        LanguageTask().validate(inputs, params)
