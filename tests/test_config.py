"""Settings: one name per setting, the same in the code, `.env.example` and the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot import texts
from bot.config import Settings
from bot.engine.registry import SPECS, model_id

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
