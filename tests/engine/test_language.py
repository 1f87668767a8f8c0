"""Language identification: ISO codes, batch-independent results, fast mode with no model."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine import Engine
from bot.engine.errors import InvalidInput
from bot.engine.registry import create_task
from bot.engine.tasks.base import LoadedModel, Task
from bot.engine.tasks.language import LanguageTask
from tests.engine.harness import LoadedTasks, check_request, run_loaded
from tests.tiny_models import LANGUAGE_LABELS

SPANISH = "Hola, ¿qué tal estás hoy? Mañana vamos a la playa con mis amigos."
ENGLISH = "The weather is lovely today, so we are going to the beach with our friends."
LONG_TEXT = (SPANISH + " " + ENGLISH + "\n") * 150


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> tuple[Task, LoadedModel]:
    return loaded_tasks.get("language", LanguageTask)


async def test_every_code_is_ranked(
    loaded: tuple[Task, LoadedModel],
) -> None:
    results, _ = await run_loaded(loaded, [SPANISH, "😊 👍🏽", LONG_TEXT[:20_000]])
    for result in results:
        assert {item.label for item in result.labels} == set(LANGUAGE_LABELS)
        scores = [item.score for item in result.labels]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert not result.truncated


async def test_batched_equals_one_by_one(loaded: tuple[Task, LoadedModel]) -> None:
    inputs = [SPANISH, ENGLISH, LONG_TEXT[:2500], "123", "🇪🇸🇬🇧"]
    together, _ = await run_loaded(loaded, inputs, batch_size=4)
    alone = [(await run_loaded(loaded, [text], batch_size=1))[0][0] for text in inputs]
    assert together == alone


def test_fast_mode_needs_no_model_at_all() -> None:
    task = create_task("language")  # nothing loaded: there is no model folder in this test
    results = task.answer_without_model([SPANISH, ENGLISH], task.parse_params({"fast": True}))
    assert results is not None
    assert [r.best.label for r in results] == ["es", "en"]
    for result in results:
        scores = [item.score for item in result.labels]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)


def test_fast_mode_without_letters_is_undetermined() -> None:
    task = LanguageTask()
    results = task.answer_without_model(["😊😊", "12345"], task.parse_params({"fast": True}))
    assert results is not None
    for result in results:
        assert len(result.labels) == 1
        assert (result.best.label, result.best.score) == ("und", 0.0)


def test_model_mode_gives_no_early_answer() -> None:
    task = LanguageTask()
    assert task.answer_without_model([SPANISH], task.parse_params({})) is None
    assert task.answer_without_model([SPANISH], task.parse_params({"fast": False})) is None


async def test_fast_mode_through_the_engine_loads_no_model(engine: Engine) -> None:
    [result] = await engine.run("language", [SPANISH], fast=True)
    assert result.best.label == "es"
    assert engine.status().models["language"].loaded is False
    [result] = await engine.run("language", [SPANISH])
    assert engine.status().models["language"].loaded is True


@pytest.mark.parametrize(
    ("inputs", "params"),
    [(SPANISH, {}), ([None], {}), ([""], {}), ([SPANISH], {"fast": "yes"}), ([SPANISH], {"x": 1})],
)
def test_validate_rejects_malformed_input(inputs: Any, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        check_request(LanguageTask(), inputs, params)
