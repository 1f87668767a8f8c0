"""Engine errors survive pickling, as a remote backend receives them: same type, words, fields."""

from __future__ import annotations

import pickle

import pytest

from bot.engine.errors import (
    EngineBusy,
    EngineClosed,
    EngineError,
    HubUnreachable,
    InferenceFailed,
    InputTooLong,
    InvalidInput,
    ModelServerUnavailable,
    ModelTooLarge,
    ModelUnavailable,
    NoMemoryForModel,
    QueueFull,
    UnknownTask,
)

EVERY_KIND: list[EngineError] = [
    EngineError("something"),
    UnknownTask("nope"),
    ModelUnavailable("qa", "org/model", "no such folder"),
    ModelTooLarge("qa", "org/model", 3 * 2**30, 2**30),
    HubUnreachable("qa", "org/model", "the hub cannot be reached"),
    InvalidInput("the text has no mask"),
    InputTooLong(20_001, 20_000),
    EngineBusy("qa", "busy"),
    QueueFull("qa", 256),
    EngineClosed("qa"),
    NoMemoryForModel("qa", "org/model", 2**30, 2**20),
    ModelServerUnavailable("qa", "no answer within 60 s"),
    InferenceFailed("qa", "org/model", "RuntimeError: boom"),
]


def test_every_kind_is_listed() -> None:
    """A new kind of error joins the list, so its pickling is tested too."""

    def kinds(cls: type[EngineError]) -> set[type[EngineError]]:
        return {cls}.union(*(kinds(sub) for sub in cls.__subclasses__()))

    assert kinds(EngineError) == {type(error) for error in EVERY_KIND}


@pytest.mark.parametrize("error", EVERY_KIND, ids=lambda e: type(e).__name__)
def test_an_error_round_trips_through_pickle(error: EngineError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
