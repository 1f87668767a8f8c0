"""Language identification: the classifier's codes with Spanish names, or langdetect when fast.

Long texts are handled as in ``TextClassificationTask`` (windows averaged by length). With
``fast=True`` the answer comes from langdetect alone and no model is loaded at all; a text with
nothing to go on (emoji, digits) then gets the single label ``und`` ("desconocido").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.engine.languages import detect_fast, language_name
from bot.engine.results import Classification, LabelScore
from bot.engine.tasks.base import TaskContext
from bot.engine.tasks.checks import bool_param
from bot.engine.tasks.text_classification import TextClassificationTask

UNDETERMINED = LabelScore("und", 0.0, "desconocido")
"""ISO 639's code for an undetermined language; keeps ``Classification.best`` always valid."""


class LanguageTask(TextClassificationTask):
    """Which language a text is in, best guess first, each code with its Spanish name."""

    params = frozenset({"fast"})

    def validate(self, inputs: list[Any], params: dict[str, Any]) -> None:
        """Texts as for classification; ``fast`` must be a real bool."""
        super().validate(inputs, params)
        bool_param(params, "fast", False)

    def answer_without_model(
        self, inputs: list[Any], params: dict[str, Any]
    ) -> list[Classification] | None:
        """With ``fast=True``, langdetect's answer (no model needed); otherwise None."""
        if not bool_param(params, "fast", False):
            return None
        results = []
        for text in inputs:
            guesses = detect_fast(text)
            ranked = sorted(guesses, key=lambda g: -g.score)
            clipped = [LabelScore(g.label, min(1.0, max(0.0, g.score)), g.name) for g in ranked]
            results.append(Classification(labels=clipped or [UNDETERMINED]))
        return results

    async def run(self, ctx: TaskContext, inputs: list[Any], params: dict[str, Any]) -> list[Any]:
        """Fast answers skip the model even when the engine did not ask the hook first."""
        fast = await ctx.prepare(self.answer_without_model, inputs, params)
        if fast is not None:
            return fast
        return await super().run(ctx, inputs, params)

    def rank(self, probs: np.ndarray, labels: list[str]) -> list[LabelScore]:
        """Ranked like any classification, each code named in Spanish."""
        return [
            LabelScore(item.label, item.score, language_name(item.label))
            for item in super().rank(probs, labels)
        ]

    def smoke_input(self) -> Any:
        """A plain Spanish sentence."""
        return "Hola, ¿qué tal estás hoy?"
