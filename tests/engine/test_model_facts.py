"""The recorded model facts against the code: a fact the code does not honour turns a test red.

``tests/model_facts/<key>.json`` records what each default model publishes (``seed/<key>.json``
the first version's model where the default changed). The registry must name those models, the
stand-ins must mirror them, and every label a model can say must mean something to the task code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from transformers import AutoTokenizer, GenerationConfig

from bot import texts
from bot.config import Settings
from bot.engine import Engine
from bot.engine.labels import normalize_labels
from bot.engine.registry import (
    HALF_PRECISION_UNSAFE,
    SEED_MODELS,
    TASK_KEYS,
    create_task,
    get_spec,
    traits_for,
)
from bot.engine.tasks.zero_shot import nli_ids
from tests import tiny_models
from tests.tiny_models import Facts, fact_labels, load_facts

SEED_KEYS = tuple(sorted(SEED_MODELS))


def recorded(*kinds: str) -> list[Any]:
    """(key, seed) cases for every recorded model, or for those of the given task keys."""
    cases = [(key, False) for key in TASK_KEYS] + [(key, True) for key in SEED_KEYS]
    return [
        pytest.param(key, seed, id=f"seed-{key}" if seed else key)
        for key, seed in cases
        if not kinds or key in kinds
    ]


SPANISH_NAMES: dict[str, dict[str, str]] = {
    "pos": texts.POS_NAMES,
    "sentiment": texts.SENTIMENT_NAMES,
    "language": texts.LANGUAGE_NAMES,
}
"""Where the replies find a Spanish name for each kind of label."""


@pytest.fixture(scope="module")
def seed_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed models' stand-ins, built once for this module."""
    return tiny_models.build_seeds(tmp_path_factory.mktemp("seed-models"))


@pytest.fixture
def folder_of(tiny_models: dict[str, Path], seed_models: dict[str, Path]) -> Callable[..., Path]:
    """The stand-in folder of a default (or, with seed=True, a seed) model."""

    def folder(key: str, seed: bool) -> Path:
        return seed_models[key] if seed else tiny_models[key]

    return folder


def read_json(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


# --------------------------------------------------------------------------------------------
# The registry names the recorded models
# --------------------------------------------------------------------------------------------


def test_every_task_has_recorded_facts_and_the_stand_in_builders_match() -> None:
    assert {p.stem for p in tiny_models.FACTS_DIR.glob("*.json")} == set(TASK_KEYS)
    assert {p.stem for p in (tiny_models.FACTS_DIR / "seed").glob("*.json")} == set(SEED_KEYS)
    assert set(tiny_models.BUILDERS) == set(TASK_KEYS)
    assert set(tiny_models.SEED_BUILDERS) == set(SEED_KEYS)


@pytest.mark.parametrize("key", TASK_KEYS)
def test_the_registry_default_is_the_recorded_model(key: str) -> None:
    assert get_spec(key).default_model == load_facts(key)["model_id"]


@pytest.mark.parametrize("key", SEED_KEYS)
def test_the_seed_model_is_the_recorded_one(key: str) -> None:
    assert SEED_MODELS[key] == load_facts(key, seed=True)["model_id"]


@pytest.mark.parametrize("key", TASK_KEYS)
def test_a_model_trained_on_pysentimiento_text_gets_that_preprocessing(key: str) -> None:
    """A card saying "preprocess_tweet(lang='es') first" is a registry trait of that model."""
    facts = load_facts(key)
    trained_so = str(facts["preprocessing"]).startswith("pysentimiento preprocess_tweet(lang='es')")
    expected = "pysentimiento" if trained_so else ""
    assert traits_for(key, facts["model_id"]).text_preprocessing == expected


@pytest.mark.parametrize(("key", "seed"), recorded())
def test_models_that_break_in_float16_are_kept_out_of_it(key: str, seed: bool) -> None:
    """mT5 gives NaN in float16 (transformers PR #10956): its model type must be on the list."""
    facts = load_facts(key, seed=seed)
    if facts["model_type"] in {"mt5", "t5"}:
        assert facts["model_type"] in HALF_PRECISION_UNSAFE


# --------------------------------------------------------------------------------------------
# Every label a model can say means something to the code
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "seed"), recorded(*SPANISH_NAMES))
def test_every_label_has_a_spanish_name(key: str, seed: bool) -> None:
    """Each label, once normalised, is one the replies name in Spanish: none is shown raw."""
    labels = fact_labels(load_facts(key, seed=seed))
    assert labels, "a classifier's facts must record its labels"
    names = SPANISH_NAMES[key]
    unnamed = [
        label
        for label, normal in zip(labels, normalize_labels(key, labels), strict=True)
        if normal not in names
    ]
    assert not unnamed, f"{key} labels with no Spanish name: {unnamed}"


@pytest.mark.parametrize(("key", "seed"), recorded("zero_shot"))
def test_zero_shot_finds_entailment_and_contradiction_by_name(key: str, seed: bool) -> None:
    labels = [label.lower() for label in fact_labels(load_facts(key, seed=seed))]
    ids = nli_ids(SimpleNamespace(id2label=dict(enumerate(labels))))
    assert ids.entailment == labels.index("entailment")
    assert ids.contradiction == labels.index("contradiction")


def test_translation_direction_can_read_spanish_and_english_off_the_language_model() -> None:
    assert {"es", "en"} <= set(fact_labels(load_facts("language")))


# --------------------------------------------------------------------------------------------
# The stand-ins mirror the facts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "seed"), recorded())
def test_the_stand_in_config_is_the_recorded_one(
    folder_of: Callable[..., Path], key: str, seed: bool
) -> None:
    facts = load_facts(key, seed=seed)
    config = read_json(folder_of(key, seed) / "config.json")
    assert config["model_type"] == facts["model_type"]
    if facts["architecture"]:
        assert config["architectures"] == [facts["architecture"]]
    id2label = facts["id2label"]
    if id2label:
        assert config["id2label"] == id2label  # the same names under the same ids
        assert config["label2id"] == {name: int(i) for i, name in id2label.items()}
    if facts["max_position_embeddings"] is not None:
        assert config["max_position_embeddings"] == facts["max_position_embeddings"]


@pytest.mark.parametrize(("key", "seed"), recorded())
def test_the_stand_in_special_ids_mean_what_the_published_ones_mean(
    folder_of: Callable[..., Path], key: str, seed: bool
) -> None:
    """A published id (Marian's pad 65000) becomes the tiny vocabulary's id for the same token."""
    facts = load_facts(key, seed=seed)
    folder = folder_of(key, seed)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = read_json(folder / "config.json")
    for name in tiny_models.CONFIG_IDS:
        if facts.get(name) is not None:
            role = tiny_models.published_roles(facts).get(facts[name])
            if role is None:  # a control token with no role: Whisper's <|startoftranscript|>
                token = tiny_models.published_tokens(facts)[facts[name]]
                assert config[name] == tokenizer.convert_tokens_to_ids(token), name
                continue
            assert config[name] == getattr(tokenizer, f"{role}_token_id"), name


@pytest.mark.parametrize(("key", "seed"), recorded())
def test_the_stand_in_tokenizer_is_the_recorded_one(
    folder_of: Callable[..., Path], key: str, seed: bool
) -> None:
    facts = load_facts(key, seed=seed)
    folder = folder_of(key, seed)
    saved = read_json(folder / "tokenizer_config.json")
    published = facts["tokenizer"]
    if published["class"]:
        assert saved["tokenizer_class"] == published["class"]
    for flag, value in tiny_models.tokenizer_flags(facts).items():
        assert saved.get(flag) == value, flag
    if published["model_max_length"] is None:  # unpublished: the engine reads the positions
        assert saved.get("model_max_length", 10**30) >= 10**29
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for role, token in tiny_models.special_tokens(facts).items():
        assert str(getattr(tokenizer, role)) == token, role


@pytest.mark.parametrize(("key", "seed"), recorded())
def test_the_stand_in_generates_with_the_recorded_settings(
    folder_of: Callable[..., Path], key: str, seed: bool
) -> None:
    facts = load_facts(key, seed=seed)
    published = facts["generation"]
    if published is None:
        return
    folder = folder_of(key, seed)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    generation = GenerationConfig.from_pretrained(folder)
    for name, value in tiny_models.tiny_ids(facts, tokenizer, published).items():
        assert getattr(generation, name) == value, name
    if "bad_words_ids" in published:  # Marian's [[65000]] bans its pad: so must the stand-in
        assert generation.bad_words_ids == [[tokenizer.pad_token_id]]


def test_a_published_id_with_no_known_meaning_is_refused() -> None:
    facts: Facts = {**load_facts("translate_es_en"), "decoder_start_token_id": 12345}
    tokenizer = SimpleNamespace(pad_token_id=7, eos_token_id=0, bos_token_id=None, unk_token_id=1)
    with pytest.raises(ValueError, match="12345"):
        tiny_models.tiny_id(facts, tokenizer, 12345)


# --------------------------------------------------------------------------------------------
# The seed's models still run, chosen with MODEL_<KEY>
# --------------------------------------------------------------------------------------------


async def test_the_seed_models_load_and_run_through_the_engine(
    make_settings: Callable[..., Settings], seed_models: dict[str, Path]
) -> None:
    overrides = {f"model_{key}": str(folder) for key, folder in seed_models.items()}
    engine = Engine(make_settings(**overrides))
    try:
        for key in SEED_KEYS:
            [result] = await engine.run(key, [create_task(key).smoke_input()])
            assert result is not None, key
        models = engine.status().models
        for key, folder in seed_models.items():
            assert models[key].loaded and models[key].model == str(folder), key
    finally:
        await engine.close()
