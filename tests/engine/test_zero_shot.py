"""Zero-shot classification: ranked scores, label hygiene, long texts, batching, validation."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.registry import create_task
from bot.engine.results import Classification, LabelScore, ZeroShotInput
from bot.engine.tasks.base import LoadedModel
from bot.engine.tasks.zero_shot import MAX_LABELS, NliIds, ZeroShotTask, nli_ids
from tests.engine.harness import (
    DirectContext,
    LoadedTasks,
    check_request,
    run_direct,
    run_loaded,
)

TEXT = "El Real Madrid ganó el partido de ayer en el último minuto."
LABELS = ("deportes", "cocina", "política", "música")
Loaded = tuple[ZeroShotTask, LoadedModel]
LONG_TEXT = "María come una manzana en la cocina. El profesor lee el periódico. " * 150


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> Loaded:
    return loaded_tasks.get("zero_shot", ZeroShotTask)


def assert_well_formed(result: Classification, labels: list[str]) -> None:
    """Every label once, best first, scores in [0, 1]."""
    assert isinstance(result, Classification)
    assert all(isinstance(item, LabelScore) for item in result.labels)
    assert sorted(item.label for item in result.labels) == sorted(labels)
    scores = [item.score for item in result.labels]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    assert result.best == result.labels[0]


async def test_single_label_scores_sum_to_one(tiny_models: dict[str, Path]) -> None:
    folder = str(tiny_models["zero_shot"])
    [result] = await run_direct("zero_shot", folder, [ZeroShotInput(TEXT, LABELS)])
    assert_well_formed(result, list(LABELS))
    assert math.isclose(sum(item.score for item in result.labels), 1.0, abs_tol=1e-6)
    assert result.truncated is False


async def test_multi_label_scores_each_label_on_its_own(loaded: Loaded) -> None:
    [multi], _ = await run_loaded(loaded, [ZeroShotInput(TEXT, LABELS)], multi_label=True)
    assert_well_formed(multi, list(LABELS))
    # Each label alone gives the same score as within the group.
    alone = {
        label: (await run_loaded(loaded, [ZeroShotInput(TEXT, (label,))]))[0][0] for label in LABELS
    }
    for item in multi.labels:
        assert math.isclose(alone[item.label].best.score, item.score, abs_tol=1e-5)


async def test_labels_are_stripped_and_deduplicated_in_order(loaded: Loaded) -> None:
    [result], _ = await run_loaded(
        loaded, [ZeroShotInput(TEXT, (" cocina", "deportes ", "cocina", "arte"))]
    )
    assert_well_formed(result, ["cocina", "deportes", "arte"])


async def test_hypothesis_template_is_used(loaded: Loaded) -> None:
    inputs = [ZeroShotInput(TEXT, LABELS)]
    default, _ = await run_loaded(loaded, inputs)
    other, _ = await run_loaded(loaded, inputs, hypothesis_template="Trata de {}")
    assert [i.score for i in default[0].labels] != [i.score for i in other[0].labels]


async def test_long_text_is_cut_and_flagged(loaded: Loaded) -> None:
    task, lm = loaded
    steps = task.parse_params({})
    features = task.preprocess(lm, [ZeroShotInput(LONG_TEXT, LABELS)], steps.preprocess)
    assert all(f.meta["cut"] for f in features)
    assert len(features) == len(LABELS)
    assert all(f.length <= lm.max_length for f in features)
    [result], _ = await run_loaded(loaded, [ZeroShotInput(LONG_TEXT, LABELS)])
    assert_well_formed(result, list(LABELS))
    assert result.truncated is True


async def test_every_pair_of_every_request_goes_in_one_forward(loaded: Loaded) -> None:
    task, lm = loaded
    ctx = DirectContext(task, lm, batch_size=64)
    inputs = [ZeroShotInput(TEXT, LABELS), ZeroShotInput("Hoy cocino paella.", ("a", "b"))]
    results = await task.run(ctx, inputs, task.parse_params({}))
    assert ctx.forward_calls == [len(LABELS) + 2]
    assert [len(r.labels) for r in results] == [len(LABELS), 2]


@pytest.mark.parametrize("multi_label", [False, True])
async def test_batched_equals_one_by_one(loaded: Loaded, multi_label: bool) -> None:
    inputs = [
        ZeroShotInput(TEXT, LABELS),
        ZeroShotInput(LONG_TEXT, ("cocina", "deportes")),
        ZeroShotInput("Hola.", ("saludo",)),
        ZeroShotInput("Mis amigos compran pan y queso en el mercado.", LABELS[::-1]),
    ]
    together, _ = await run_loaded(loaded, inputs, batch_size=64, multi_label=multi_label)
    alone = [
        (await run_loaded(loaded, [i], batch_size=1, multi_label=multi_label))[0][0] for i in inputs
    ]
    for a, b in zip(together, alone, strict=True):
        assert a.truncated == b.truncated
        assert {x.label: x.score for x in a.labels} == pytest.approx(
            {x.label: x.score for x in b.labels}, abs=1e-5
        )


def test_entailment_and_contradiction_are_found_by_name() -> None:
    config = SimpleNamespace(id2label={0: "NEUTRAL", 1: "Contradiction", 2: "ENTAILMENT"})
    assert nli_ids(config) == NliIds(entailment=2, contradiction=1)
    config = SimpleNamespace(id2label={"0": "entailment", "1": "neutral", "2": "contradiction"})
    assert nli_ids(config) == NliIds(entailment=0, contradiction=2)


@pytest.mark.parametrize(
    ("inputs", "params"),
    [
        ([ZeroShotInput(TEXT, ())], {}),
        ([ZeroShotInput(TEXT, ("   ",))], {}),
        ([ZeroShotInput(TEXT, ("a", ""))], {}),
        ([ZeroShotInput(TEXT, "deportes")], {}),  # type: ignore[arg-type]
        ([ZeroShotInput(TEXT, tuple(f"l{i}" for i in range(MAX_LABELS + 1)))], {}),
        ([ZeroShotInput("  ", LABELS)], {}),
        ([TEXT], {}),
        ([ZeroShotInput(TEXT, LABELS)], {"hypothesis_template": "Sin hueco."}),
        ([ZeroShotInput(TEXT, LABELS)], {"hypothesis_template": "{} y {}"}),
        ([ZeroShotInput(TEXT, LABELS)], {"multi_label": "sí"}),
        ([ZeroShotInput(TEXT, LABELS)], {"multilabel": True}),
    ],
)
def test_validate_rejects_bad_input_without_a_model(inputs: list, params: dict) -> None:
    with pytest.raises(InvalidInput):
        check_request(create_task("zero_shot"), inputs, params)


def test_many_duplicate_labels_count_once() -> None:
    create_task("zero_shot").validate([ZeroShotInput(TEXT, ("a",) * (MAX_LABELS + 5))])


def test_smoke_input_is_valid() -> None:
    task = create_task("zero_shot")
    task.validate([task.smoke_input()])
