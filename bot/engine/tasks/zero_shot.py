"""Zero-shot classification with an NLI model: does the text entail "this is about <label>"?

Each (text, label) pair is one feature, so labels of many requests batch together. NLI needs
the whole premise at once, so a text longer than the window is cut (truncated=True).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from transformers import AutoModelForSequenceClassification

from bot.engine.errors import InvalidInput
from bot.engine.results import Classification, LabelScore, ZeroShotInput
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, pad_batch
from bot.engine.tasks.checks import bool_param, check_filled, check_items, check_param_names

DEFAULT_TEMPLATE = "Este ejemplo es {}."
MAX_LABELS = 100
MAX_LABEL_CHARS = 200


@dataclass(frozen=True)
class NliIds:
    """Where the entailment and contradiction logits sit in the model's output."""

    entailment: int
    contradiction: int


class ZeroShotTask(Task):
    """Text + free labels -> Classification, best label first."""

    model_class: ClassVar[Any] = AutoModelForSequenceClassification
    params: ClassVar[frozenset[str]] = frozenset({"hypothesis_template", "multi_label"})

    def validate(self, inputs: list[Any]) -> None:
        """Non-empty text and 1..MAX_LABELS non-empty labels."""
        for item in check_items(inputs, ZeroShotInput):
            check_filled(item.text, "text")
            clean_labels(item.labels)

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """hypothesis_template (exactly one {}) builds the pairs; multi_label ranks them."""
        check_param_names(params, self.params)
        template = params.get("hypothesis_template", DEFAULT_TEMPLATE)
        if not isinstance(template, str) or template.count("{}") != 1:
            raise InvalidInput("hypothesis_template must be a string with exactly one {}")
        try:
            template.format("x")
        except (IndexError, KeyError, ValueError) as exc:
            raise InvalidInput(f"hypothesis_template cannot be formatted: {exc}") from None
        return StepParams(
            preprocess={"hypothesis_template": template},
            postprocess={"multi_label": bool_param(params, "multi_label", False)},
        )

    def smoke_input(self) -> ZeroShotInput:
        """A short text with two obvious labels."""
        return ZeroShotInput("El Real Madrid ganó el partido de ayer.", ("deportes", "cocina"))

    def preprocess(
        self, lm: LoadedModel, inputs: list[ZeroShotInput], params: Mapping[str, Any]
    ) -> list[Feature]:
        """One feature per (text, hypothesis) pair, noting whether the text had to be cut."""
        template = params["hypothesis_template"]
        tokenizer = lm.tokenizer
        features: list[Feature] = []
        for index, item in enumerate(inputs):
            text = item.text.strip()
            labels = clean_labels(item.labels)
            hypotheses = [template.format(label) for label in labels]
            longest = max(
                len(ids) for ids in tokenizer(hypotheses, add_special_tokens=False)["input_ids"]
            )
            # only_first cannot shorten a hypothesis that alone overflows half the window.
            strategy = "only_first" if longest <= lm.max_length // 2 else "longest_first"
            encoding = tokenizer(
                [text] * len(labels), hypotheses, truncation=strategy, max_length=lm.max_length
            )
            text_tokens = len(tokenizer(text, add_special_tokens=False)["input_ids"])
            for label_index in range(len(labels)):
                kept = sum(1 for s in encoding.sequence_ids(label_index) if s == 0)
                types = encoding.get("token_type_ids")
                features.append(
                    Feature(
                        input_ids=list(encoding["input_ids"][label_index]),
                        token_type_ids=list(types[label_index]) if types is not None else None,
                        meta={
                            "request": index,
                            "label": label_index,
                            "cut": kept < text_tokens,
                        },
                    )
                )
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """The (contradiction, entailment) logits of each pair."""
        ids = nli_ids(lm.model.config)
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        logits = lm.model(**batch).logits[:, [ids.contradiction, ids.entailment]]
        pairs = logits.float().cpu().numpy()
        return [pairs[row].copy() for row in range(len(features))]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[ZeroShotInput],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Classification]:
        """Softmax entailment across labels, or entailment vs contradiction per label."""
        multi_label = params["multi_label"]
        logits: list[dict[int, np.ndarray]] = [{} for _ in inputs]
        truncated = [False] * len(inputs)
        for feature, raw in zip(features, raws, strict=True):
            logits[feature.meta["request"]][feature.meta["label"]] = raw
            truncated[feature.meta["request"]] |= feature.meta["cut"]
        results: list[Classification] = []
        for item, by_label, cut in zip(inputs, logits, truncated, strict=True):
            labels = clean_labels(item.labels)
            pairs = np.stack([by_label[i] for i in range(len(labels))]).astype(np.float64)
            if multi_label or len(labels) == 1:
                # A lone label has nothing to compete with: judge it on its own, like transformers.
                scores = _softmax(pairs, axis=1)[:, 1]
            else:
                scores = _softmax(pairs[:, 1], axis=0)
            order = sorted(range(len(labels)), key=lambda i: -scores[i])
            ranked = [LabelScore(labels[i], float(scores[i])) for i in order]
            results.append(Classification(labels=ranked, truncated=cut))
        return results


def clean_labels(labels: Any) -> list[str]:
    """Stripped labels without repeats, in the order given; rejects empty or too many."""
    if isinstance(labels, str) or not isinstance(labels, (tuple, list)):
        raise InvalidInput("labels must be a sequence of strings")
    cleaned: list[str] = []
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise InvalidInput("every label must be a non-empty string")
        label = label.strip()
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidInput(f"a label is longer than {MAX_LABEL_CHARS} characters")
        if label not in cleaned:
            cleaned.append(label)
    if not cleaned:
        raise InvalidInput("at least one label is needed")
    if len(cleaned) > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} labels are allowed, got {len(cleaned)}")
    return cleaned


def nli_ids(config: Any) -> NliIds:
    """Find entailment and contradiction by label name, as transformers' pipeline does."""
    names = {int(i): str(name).lower() for i, name in config.id2label.items()}
    entailment = next((i for i, n in names.items() if n.startswith("entail")), -1)
    contradiction = next((i for i, n in names.items() if n.startswith("contradict")), -1)
    if entailment < 0:
        entailment = len(names) - 1  # transformers' fallback: the last label
    if contradiction < 0:
        contradiction = len(names) - 1 if entailment == 0 else 0
    return NliIds(entailment=entailment, contradiction=contradiction)


def _softmax(values: np.ndarray, axis: int) -> np.ndarray:
    """A numerically stable softmax."""
    exp = np.exp(values - values.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)
