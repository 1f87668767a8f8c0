"""Input and parameter checks shared by every task, run before a model is loaded.

A malformed request fails here with ``InvalidInput`` and a message naming what was wrong, so no
task ever spends a model load, or a forward, on a request it would reject anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from bot.engine.errors import InvalidInput

T = TypeVar("T")

MIN_SEED = -(2**63)
MAX_SEED = 2**64 - 1
"""The seeds ``torch.manual_seed`` accepts; anything else would only fail inside the forward."""


def check_texts(inputs: Any, allow_empty: bool = False) -> None:
    """A list of strings; blank ones only where the task has an answer for them."""
    if not isinstance(inputs, list):
        raise InvalidInput(f"inputs must be a list of strings, got {type(inputs).__name__}")
    for i, text in enumerate(inputs):
        if not isinstance(text, str):
            raise InvalidInput(f"input {i} must be a string, got {type(text).__name__}")
        if not allow_empty and not text.strip():
            raise InvalidInput(f"input {i} is empty")


def check_items(inputs: Any, kind: type[T]) -> list[T]:
    """A list whose every item is a ``kind`` (QAInput, ZeroShotInput...)."""
    if not isinstance(inputs, list):
        raise InvalidInput(f"inputs must be a list of {kind.__name__}, got {type(inputs).__name__}")
    for i, item in enumerate(inputs):
        if not isinstance(item, kind):
            raise InvalidInput(f"input {i} must be a {kind.__name__}, got {type(item).__name__}")
    return inputs


def check_filled(value: Any, what: str) -> None:
    """One text field of an input (a question, a context) holds more than whitespace."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"the {what} is empty")


def check_param_names(params: Mapping[str, Any], allowed: set[str] | frozenset[str]) -> None:
    """A misspelt parameter would otherwise be silently ignored."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown parameters {unknown}; allowed: {sorted(allowed)}")


def int_param(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter in low..high (bools are not integers here)."""
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be an integer between {low} and {high}, got {value!r}")
    return value


def optional_int_param(params: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    """An integer parameter in low..high, or None (absent or given as None)."""
    if params.get(name) is None:
        return None
    return int_param(params, name, low, low, high)


def float_param(
    params: Mapping[str, Any], name: str, default: float, *, above: float, at_most: float
) -> float:
    """A number parameter with above < value <= at_most (bools are not numbers here)."""
    value = params.get(name, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not above < value <= at_most
    ):
        raise InvalidInput(f"{name} must be a number above {above} and at most {at_most}")
    return float(value)


def bool_param(params: Mapping[str, Any], name: str, default: bool) -> bool:
    """A true/false parameter; 0 and 1 are refused so a typo cannot pass for a flag."""
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false, got {value!r}")
    return value
