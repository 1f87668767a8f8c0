"""Settings: one name per setting, the same in the code, `.env.example` and the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot import texts
from bot.__main__ import settings_problem
from bot.config import Settings
from bot.engine.registry import SPECS, ModelTraits, model_id, traits_for

ROOT = Path(__file__).resolve().parent.parent


def documented(path: Path) -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", path.read_text(encoding="utf-8"), re.M))


def test_every_setting_is_in_env_example_and_readme() -> None:
    names = {name.upper() for name in Settings.model_fields}
    assert documented(ROOT / ".env.example") == names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"README does not document {missing}"


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USERS", "12, 34")
    monkeypatch.setenv("DEFAULT_LABELS", "arte, ciencia ,")
    monkeypatch.setenv("PRELOAD", "qa,pos")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admin_users == [12, 34]
    assert settings.default_labels == ["arte", "ciencia"]
    assert settings.preload == ["qa", "pos"]


def test_default_labels_are_the_spanish_words_of_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The words live in texts.py; .env.example documents the same default."""
    monkeypatch.delenv("DEFAULT_LABELS", raising=False)
    first, second = (Settings(_env_file=None) for _ in range(2))  # type: ignore[call-arg]
    first.default_labels.append("otra")  # each Settings owns its list
    assert second.default_labels == list(texts.DEFAULT_LABELS)
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert f"DEFAULT_LABELS={','.join(texts.DEFAULT_LABELS)}\n" in example


def test_model_override_by_task_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_QA", "/models/qa")
    assert Settings(_env_file=None).model_for("qa") == "/models/qa"  # type: ignore[call-arg]


def test_an_unset_model_means_the_registry_default() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert model_id("qa", settings.model_for("qa")) == SPECS["qa"].default_model
    assert model_id("qa", "/models/qa") == "/models/qa"


@pytest.mark.parametrize(
    ("name", "value"), [("DEVICE", "gpu"), ("DTYPE", "int8"), ("LOG_LEVEL", "verbose")]
)
def test_bad_values_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_generation_settings_are_typed_name_value_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENERATION_SUMMARIZE", "num_beams=2, max_new_tokens=64,")
    monkeypatch.setenv("GENERATION_POEM", "do_sample=false,top_p=0.8,seed=7")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.generation_for("summarize") == {"num_beams": 2, "max_new_tokens": 64}
    poem = settings.generation_for("poem")
    assert poem == {"do_sample": False, "top_p": 0.8, "seed": 7}
    assert [type(value) for value in poem.values()] == [bool, float, int]
    assert settings.generation_for("translate_es_en") == {}
    assert settings.generation_for("qa") == {}  # no such setting: nothing to add


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("num_beams", "write name=value pairs"),
        ("num_beams=many", "num_beams must be a number, true or false"),
        ("num_beams=2,num_beams=3", "num_beams is given twice"),
        ("Num Beams=2", "write name=value pairs"),
    ],
)
def test_malformed_generation_settings_are_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("GENERATION_TRANSLATE_EN_ES", value)
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert f"GENERATION_TRANSLATE_EN_ES: {problem}" in str(error.value)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("GENERATION_TRANSLATE_ES_EN", "num_beams=9", "num_beams must be an integer between 1"),
        ("GENERATION_SUMMARIZE", "temperature=0.5", "unknown parameters ['temperature']"),
        ("GENERATION_POEM", "top_p=2", "top_p must be a number above 0"),
        ("GENERATION_POEM", "do_sample=1", "do_sample must be true or false"),
    ],
)
def test_generation_settings_pass_the_task_checks_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    found = settings_problem(Settings(_env_file=None))  # type: ignore[call-arg]
    assert found is not None and found.startswith(f"{name}: {problem}")


def test_good_generation_settings_are_no_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENERATION_TRANSLATE_ES_EN", "num_beams=2,max_new_tokens=64")
    monkeypatch.setenv("GENERATION_POEM", "max_new_tokens=40,temperature=0.7")
    assert settings_problem(Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_a_local_copy_of_a_seed_model_does_not_get_the_default_models_preprocessing(
    tmp_path: Path,
) -> None:
    seed_copy = tmp_path / "models--finiteautomata--bertweet-base-sentiment-analysis"
    default_copy = tmp_path / "mi-modelo"
    seed_copy.mkdir()
    default_copy.mkdir()
    assert traits_for("sentiment", str(seed_copy)).text_preprocessing == ""
    assert traits_for("sentiment", str(default_copy)).text_preprocessing == "pysentimiento"
    assert traits_for("sentiment", "finiteautomata/bertweet-base-sentiment-analysis") == (
        ModelTraits()
    )


def test_runtime_settings_cover_every_task_and_read_any_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.config import RUNTIME_KEYS

    assert tuple(SPECS) == RUNTIME_KEYS
    monkeypatch.setenv("RUNTIME", "ONNXRuntime")
    monkeypatch.setenv("RUNTIME_POEM", "torch")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.runtime_for("qa"), settings.runtime_for("poem")) == ("onnxruntime", "torch")
    assert settings.converted_path == settings.data_dir / "converted"
    monkeypatch.setenv("RUNTIME", "tensorrt")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
