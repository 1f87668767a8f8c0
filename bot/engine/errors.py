"""Typed engine errors: handlers turn each kind into its own Spanish message."""

from __future__ import annotations

from typing import Any


def _restore(cls: type[EngineError], args: tuple[Any, ...], state: dict[str, Any]) -> EngineError:
    """Rebuild a pickled error without calling its __init__ (whose arguments differ per kind)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickles as cls(*args), which breaks every subclass with its own __init__;
        # a remote backend (bot/engine/remote.py) receives these errors pickled.
        return (_restore, (type(self), self.args, self.__dict__))


class UnknownTask(EngineError):
    """A task key that is not in the registry (a programming error, not user input)."""

    def __init__(self, task: str) -> None:
        super().__init__(f"unknown task {task!r}")
        self.task = task


class ModelUnavailable(EngineError):
    """The task's model could not be loaded; names the model and why."""

    def __init__(self, task: str, model_id: str, reason: str) -> None:
        super().__init__(f"model {model_id!r} for task {task!r} is unavailable: {reason}")
        self.task = task
        self.model_id = model_id
        self.reason = reason


class ModelTooLarge(ModelUnavailable):
    """The model alone does not fit in MODEL_MEMORY_MB."""

    def __init__(self, task: str, model_id: str, needed_bytes: int, budget_bytes: int) -> None:
        reason = (
            f"needs {needed_bytes / 2**20:.0f} MB but MODEL_MEMORY_MB allows "
            f"{budget_bytes / 2**20:.0f} MB"
        )
        super().__init__(task, model_id, reason)
        self.needed_bytes = needed_bytes
        self.budget_bytes = budget_bytes


class HubUnreachable(ModelUnavailable):
    """The model is not on disk and the Hugging Face hub cannot be reached to fetch it."""

    @property
    def setting(self) -> str:
        """The setting that points the task at a local folder instead: MODEL_<KEY>."""
        return f"MODEL_{self.task.upper()}"


class InvalidInput(EngineError):
    """The input cannot be processed as given (e.g. no mask token, no labels)."""


class InputTooLong(InvalidInput):
    """An input is longer than MAX_INPUT_CHARS."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"input of {length} characters exceeds the limit of {limit}")
        self.length = length
        self.limit = limit


class EngineBusy(EngineError):
    """The engine cannot take this request now; the same request may succeed later."""

    def __init__(self, task: str, message: str) -> None:
        super().__init__(message)
        self.task = task


class ModelServerUnavailable(EngineBusy):
    """ENGINE_BACKEND=ray: no model-server replica answered in time, a retry included."""

    def __init__(self, task: str, reason: str) -> None:
        super().__init__(task, f"model server unavailable for {task!r}: {reason}")
        self.reason = reason


class QueueFull(EngineBusy):
    """The model's queue is full: the caller should retry in a few seconds."""

    def __init__(self, task: str, queued: int) -> None:
        super().__init__(task, f"queue full for {task!r} ({queued} requests waiting)")
        self.queued = queued


class EngineClosed(EngineBusy):
    """The engine is shutting down (the bot is restarting); nothing new will run."""

    def __init__(self, task: str) -> None:
        super().__init__(task, f"engine closed: {task!r} cannot run while shutting down")


class NoMemoryForModel(EngineBusy):
    """The model fits MODEL_MEMORY_MB, but busy models held the memory for too long."""

    def __init__(self, task: str, model_id: str, needed_bytes: int, free_bytes: int) -> None:
        super().__init__(
            task,
            f"no memory for this model: {model_id!r} for {task!r} needs "
            f"{needed_bytes / 2**20:.0f} MB, only {free_bytes / 2**20:.0f} MB are free "
            "while other models are busy",
        )
        self.model_id = model_id
        self.needed_bytes = needed_bytes
        self.free_bytes = free_bytes


class InferenceFailed(EngineError):
    """The model raised while running; the model may have been unloaded."""

    def __init__(self, task: str, model_id: str, reason: str) -> None:
        super().__init__(f"inference with {model_id!r} for task {task!r} failed: {reason}")
        self.task = task
        self.model_id = model_id
        self.reason = reason
