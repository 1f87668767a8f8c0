"""The one interface handlers see for model work: the in-process engine or a remote one."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from bot.engine.results import Tokenization
from bot.engine.status import EngineStatus


@runtime_checkable
class InferenceBackend(Protocol):
    """Runs tasks by key; raises only the typed errors of `bot.engine.errors`."""

    async def run(self, task: str, inputs: list[Any], **params: Any) -> list[Any]:
        """One result per input, in order."""
        ...

    async def tokenize(self, task: str, texts: list[str]) -> list[Tokenization]:
        """How the tokenizer of a task's model cuts each text (its weights need not load)."""
        ...

    async def preload(self, keys: list[str] | None = None) -> dict[str, str]:
        """Load models ahead of the first request; key -> "ok" or the error in words."""
        ...

    def status(self) -> EngineStatus:
        """Figures for /estado and `python -m bot status`."""
        ...

    async def close(self) -> None:
        """Finish work in flight and free every model."""
        ...
