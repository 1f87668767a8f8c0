"""The shared input and parameter checks: what passes, what is refused before a model loads."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.results import QAInput
from bot.engine.tasks.checks import (
    bool_param,
    check_filled,
    check_items,
    check_param_names,
    check_texts,
    float_param,
    int_param,
    optional_int_param,
)


def test_texts_are_a_list_of_strings() -> None:
    check_texts(["hola", "adiós"])
    check_texts(["", "  "], allow_empty=True)
    for bad in ["hola", ("hola",), [1], [None], ["hola", b"x"]]:
        with pytest.raises(InvalidInput):
            check_texts(bad, allow_empty=True)
    with pytest.raises(InvalidInput, match="input 1 is empty"):
        check_texts(["hola", " \n"])


def test_items_must_all_be_of_the_kind() -> None:
    items = [QAInput("¿Qué?", "Algo.")]
    assert check_items(items, QAInput) is items
    for bad in [QAInput("¿Qué?", "Algo."), ["¿Qué? Algo."], [items[0], "x"]]:
        with pytest.raises(InvalidInput):
            check_items(bad, QAInput)
    with pytest.raises(InvalidInput, match="the question is empty"):
        check_filled("  ", "question")


def test_unknown_parameter_names_are_refused() -> None:
    check_param_names({"top_k": 3}, {"top_k"})
    with pytest.raises(InvalidInput, match="topk"):
        check_param_names({"topk": 3}, {"top_k"})


@pytest.mark.parametrize("value", [0, 11, True, 2.0, "3", None])
def test_int_param_refuses(value: Any) -> None:
    with pytest.raises(InvalidInput):
        int_param({"n": value}, "n", 5, 1, 10)


def test_numbers_and_flags_take_defaults_and_ranges() -> None:
    assert int_param({}, "n", 5, 1, 10) == 5 and int_param({"n": 10}, "n", 5, 1, 10) == 10
    assert optional_int_param({}, "n", 1, 10) is None
    assert optional_int_param({"n": None}, "n", 1, 10) is None
    assert optional_int_param({"n": 3}, "n", 1, 10) == 3
    assert float_param({"t": 1}, "t", 0.5, above=0, at_most=1) == 1.0
    assert bool_param({}, "fast", False) is False and bool_param({"fast": True}, "fast", False)
    for value in [0, 0.0, 1.5, True, float("nan"), "0.5"]:
        with pytest.raises(InvalidInput):
            float_param({"t": value}, "t", 0.5, above=0, at_most=1)
    for flag in [1, 0, "true", None]:
        with pytest.raises(InvalidInput):
            bool_param({"fast": flag}, "fast", False)
