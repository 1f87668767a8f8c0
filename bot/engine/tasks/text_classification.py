"""Whole-text classification (sentiment): long texts are read window by window and averaged.

A text longer than the model's window is split at sentence boundaries into windows that fit
(a sentence longer than a window is cut by tokens); every window is classified in the same
forward and the label probabilities are averaged, weighted by each window's token count, so
nothing is dropped and ``truncated`` stays False. A model trained on normalised text (RoBERTuito:
handles, links, emoji as words) reads the text normalised the same way; results carry each
label under its one name (``bot.engine.labels``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification

from bot.engine.labels import normalize_labels
from bot.engine.results import Classification, LabelScore
from bot.engine.tasks.base import Feature, LoadedModel, Task, pad_batch
from bot.engine.tasks.sentences import pack_token_windows, split_sentences
from bot.engine.text_preprocessing import normalize_text

SCORE_DIGITS = 6
"""Scores are rounded so float noise from batch padding cannot change a result."""


def special_frame(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after one sequence (e.g. ``<s>`` and ``</s>``)."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return list(full[:start]), list(full[start + len(bare) :])
    return [], []


def label_names(lm: LoadedModel) -> list[str]:
    """The model's label names in id order (the request holds the model until it is done)."""
    id2label = lm.model.config.id2label
    return [str(id2label[i]) for i in range(len(id2label))]


def model_labels(lm: LoadedModel, kind: str | None = None) -> list[str]:
    """The model's labels in id order under their one name; the kind defaults to the task key."""
    return normalize_labels(kind or lm.key, label_names(lm))


def rank_labels(probs: np.ndarray, labels: list[str]) -> list[LabelScore]:
    """All labels, best first; ties keep the model's label order so results are stable.

    Two ids that name the same label (``POS`` and ``positive``) are one label: their
    probabilities add up.
    """
    merged: dict[str, float] = {}
    for label, p in zip(labels, probs, strict=True):
        merged[label] = merged.get(label, 0.0) + float(p)
    names = list(merged)
    scores = [round(merged[name], SCORE_DIGITS) for name in names]
    order = sorted(range(len(names)), key=lambda i: (-scores[i], i))
    return [LabelScore(names[i], min(1.0, max(0.0, scores[i]))) for i in order]


class TextClassificationTask(Task):
    """One label distribution per text, from a sequence-classification head."""

    model_class = AutoModelForSequenceClassification

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """Tokenise each text into windows that fit the model, remembering their weights."""
        tokenizer = lm.tokenizer
        prefix, suffix = special_frame(tokenizer)
        budget = max(1, lm.max_length - len(prefix) - len(suffix))
        features: list[Feature] = []
        for index, raw in enumerate(inputs):
            text = normalize_text(lm.traits.text_preprocessing, raw)
            ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
            if len(ids) <= budget:
                windows = [list(ids)]
            else:
                sentences = split_sentences(text)
                pieces = tokenizer(sentences, add_special_tokens=False, verbose=False)["input_ids"]
                windows = pack_token_windows([list(p) for p in pieces], budget)
            for window in windows:
                meta = {"request": index, "weight": max(1, len(window))}
                features.append(Feature(input_ids=prefix + window + suffix, meta=meta))
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Label probabilities for each window, as float64 numpy rows."""
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        logits = lm.model(**batch).logits.float()
        probs = torch.softmax(logits, dim=-1).cpu().numpy().astype(np.float64)
        return list(probs)

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Classification]:
        """Average each text's window probabilities by window length and rank the labels."""
        count, labels = len(inputs), model_labels(lm)
        totals = np.zeros((count, len(labels)), dtype=np.float64)
        weights = np.zeros(count, dtype=np.float64)
        for feature, probs in zip(features, raws, strict=True):
            index, weight = feature.meta["request"], feature.meta["weight"]
            totals[index] += weight * np.asarray(probs, dtype=np.float64)
            weights[index] += weight
        results = []
        for index in range(count):
            mean = totals[index] / max(weights[index], 1.0)
            results.append(Classification(labels=rank_labels(mean, labels)))
        return results

    def smoke_input(self) -> Any:
        """A short opinionated sentence."""
        return "¡Qué día tan bonito hace hoy!"
