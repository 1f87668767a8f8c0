"""No user input ever selects a model, a file path or a setting."""

from __future__ import annotations

from typing import Any

import pytest

import handlers
from bot.engine.registry import TASK_KEYS
from bot.request import Request
from bot.services import Services
from handlers.commands import all_names

SNEAKY = [
    "MODEL_QA=/etc/passwd",
    "../../../etc/passwd",
    "/tmp/models/qa",
    "--device cuda DTYPE=float16",
    "task=summarize model=gpt2",
    "en: es: en: hola",
    "{'model': 'x'} | model, /etc/shadow",
]


@pytest.mark.parametrize("text", SNEAKY)
@pytest.mark.parametrize("command", all_names())
async def test_user_text_only_ever_reaches_models_as_input(
    services: Services, monkeypatch: pytest.MonkeyPatch, command: str, text: str
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    real_run = services.engine.run

    async def spy(task: str, inputs: list[Any], **params: Any) -> list[Any]:
        calls.append((task, params))
        return await real_run(task, inputs, **params)

    monkeypatch.setattr(services.engine, "run", spy)
    settings_before = services.settings.model_dump()
    await handlers.dispatch(Request(chat_id=5, user_id=5, command=command, text=text), services)
    for task, params in calls:
        assert task in TASK_KEYS
        for value in params.values():
            assert not isinstance(value, str) or value not in text  # nothing copied from the user
    assert services.settings.model_dump() == settings_before
    assert {m.model for m in services.engine.status().models.values()} == {
        services.settings.model_for(key) for key in TASK_KEYS
    }
