"""Language identification: the classifier's language codes, or langdetect's when fast.

Long texts are handled as in ``TextClassificationTask`` (windows averaged by length). With
``fast=True`` the answer comes from langdetect alone and no model is loaded at all; a text with
nothing to go on (emoji, digits) then gets the single code ``und``. Handlers name the codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.languages import detect_fast
from bot.engine.results import Classification, LabelScore
from bot.engine.tasks.base import StepParams
from bot.engine.tasks.checks import bool_param, check_param_names
from bot.engine.tasks.text_classification import TextClassificationTask

UNDETERMINED = LabelScore("und", 0.0)
"""ISO 639's code for an undetermined language; keeps ``Classification.best`` always valid."""


class LanguageTask(TextClassificationTask):
    """Which language a text is in, best guess first, as ISO 639 codes."""

    params = frozenset({"fast"})

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """``fast`` (a real bool) swaps the whole model run for langdetect's heuristic."""
        check_param_names(params, self.params)
        return StepParams(preprocess={"fast": bool_param(params, "fast", False)})

    def answer_without_model(
        self, inputs: list[Any], steps: StepParams
    ) -> list[Classification] | None:
        """With ``fast=True``, langdetect's answer (no model needed); otherwise None."""
        if not steps.preprocess["fast"]:
            return None
        results = []
        for text in inputs:
            guesses = detect_fast(text)
            ranked = sorted(guesses, key=lambda g: -g.score)
            clipped = [LabelScore(g.label, min(1.0, max(0.0, g.score))) for g in ranked]
            results.append(Classification(labels=clipped or [UNDETERMINED]))
        return results

    def smoke_input(self) -> Any:
        """A plain Spanish sentence."""
        return "Hola, ¿qué tal estás hoy?"
