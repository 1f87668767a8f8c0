"""Extractive question answering: the span of the context that best answers a question.

Long contexts are split into overlapping windows (question + a slice of the context each, like
transformers' old question-answering pipeline); every window is one feature, and the best span
over all windows of a request wins. A question longer than half the window is cut to its first
half-window of tokens (truncated=True), so every window still holds some context.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import numpy as np
from transformers import AutoModelForQuestionAnswering

from bot.engine.results import Answer, QAInput
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, pad_batch
from bot.engine.tasks.checks import check_filled, check_items, check_param_names, int_param
from bot.engine.tasks.sentences import sentence_containing

DEFAULT_MAX_ANSWER_TOKENS = 30
MAX_ANSWER_TOKENS = 512
MAX_STRIDE = 128
CANDIDATES_PER_WINDOW = 20
"""Spans kept per window, so a best span that is only whitespace can give way to the next."""


class QuestionAnsweringTask(Task):
    """Question + context -> Answer(text, score, start, end, sentence)."""

    model_class: ClassVar[Any] = AutoModelForQuestionAnswering
    params: ClassVar[frozenset[str]] = frozenset({"max_answer_tokens"})

    def validate(self, inputs: list[Any]) -> None:
        """Questions and contexts must be non-empty text."""
        for item in check_items(inputs, QAInput):
            check_filled(item.question, "question")
            check_filled(item.context, "context")

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """The longest answer, in tokens, that a span may have: only postprocess reads it."""
        check_param_names(params, self.params)
        max_answer = int_param(
            params, "max_answer_tokens", DEFAULT_MAX_ANSWER_TOKENS, 1, MAX_ANSWER_TOKENS
        )
        return StepParams(postprocess={"max_answer_tokens": max_answer})

    def smoke_input(self) -> QAInput:
        """A question whose answer is plainly in the context."""
        return QAInput("¿Dónde vive Ana?", "Ana vive en Madrid. Trabaja en una biblioteca.")

    def preprocess(
        self, lm: LoadedModel, inputs: list[QAInput], params: Mapping[str, Any]
    ) -> list[Feature]:
        """One feature per window of question + context slice, overlapping by a stride."""
        tokenizer = lm.tokenizer
        features: list[Feature] = []
        for index, item in enumerate(inputs):
            question, cut = _fit_question(tokenizer, item.question.strip(), lm.max_length)
            room = (
                lm.max_length
                - len(tokenizer(question, add_special_tokens=False)["input_ids"])
                - tokenizer.num_special_tokens_to_add(pair=True)
            )
            encoding = tokenizer(
                question,
                item.context,
                truncation="only_second",
                max_length=lm.max_length,
                stride=min(MAX_STRIDE, max(room // 4, 0)),
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
            for window, ids in enumerate(encoding["input_ids"]):
                sequence_ids = encoding.sequence_ids(window)
                types = encoding["token_type_ids"][window] if "token_type_ids" in encoding else None
                features.append(
                    Feature(
                        input_ids=list(ids),
                        token_type_ids=list(types) if types is not None else None,
                        meta={
                            "request": index,
                            "offsets": [tuple(o) for o in encoding["offset_mapping"][window]],
                            "is_context": [s == 1 for s in sequence_ids],
                            "question_cut": cut,
                        },
                    )
                )
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Start and end logits of every token, trimmed of padding."""
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        output = lm.model(**batch)
        starts = output.start_logits.float().cpu().numpy()
        ends = output.end_logits.float().cpu().numpy()
        return [
            (starts[row, : f.length].copy(), ends[row, : f.length].copy())
            for row, f in enumerate(features)
        ]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[QAInput],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Answer]:
        """The best-scoring non-blank span over all windows of each request."""
        max_answer = params["max_answer_tokens"]
        candidates: list[list[tuple[float, int, int]]] = [[] for _ in inputs]
        question_cut = [False] * len(inputs)
        for feature, (start_logits, end_logits) in zip(features, raws, strict=True):
            meta = feature.meta
            question_cut[meta["request"]] = meta["question_cut"]
            for score, first, last in _best_spans(
                start_logits, end_logits, np.array(meta["is_context"]), max_answer
            ):
                char_start = meta["offsets"][first][0]
                char_end = meta["offsets"][last][1]
                candidates[meta["request"]].append((score, char_start, char_end))
        return [
            _pick_answer(item.context, found, cut)
            for item, found, cut in zip(inputs, candidates, question_cut, strict=True)
        ]


def _fit_question(tokenizer: Any, question: str, max_length: int) -> tuple[str, bool]:
    """Cut a question longer than half the window, so every window still holds context."""
    encoding = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    limit = max(max_length // 2, 1)
    if len(encoding["input_ids"]) <= limit:
        return question, False
    return question[: encoding["offset_mapping"][limit - 1][1]], True


def _softmax_over(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Probabilities over the allowed positions only (the others get 0)."""
    masked = np.where(allowed, logits.astype(np.float64), -np.inf)
    exp = np.exp(masked - masked.max())
    return exp / exp.sum()


def _best_spans(
    start_logits: np.ndarray, end_logits: np.ndarray, is_context: np.ndarray, max_answer: int
) -> list[tuple[float, int, int]]:
    """Top spans of one window as (probability, first token, last token), best first."""
    if not is_context.any():
        return []
    p_start = _softmax_over(start_logits, is_context)
    p_end = _softmax_over(end_logits, is_context)
    # Span probability = p(start) * p(end), for start <= end < start + max_answer.
    scores = np.tril(np.triu(np.outer(p_start, p_end)), max_answer - 1)
    flat = scores.ravel()
    keep = min(CANDIDATES_PER_WINDOW, flat.size)
    top = np.argpartition(-flat, keep - 1)[:keep]
    top = top[np.argsort(-flat[top], kind="stable")]
    firsts, lasts = np.unravel_index(top, scores.shape)
    return [
        (float(flat[i]), int(a), int(b))
        for i, a, b in zip(top, firsts, lasts, strict=True)
        if flat[i] > 0.0
    ]


def _pick_answer(
    context: str, candidates: list[tuple[float, int, int]], question_cut: bool
) -> Answer:
    """The best candidate whose text is not blank, widened to whole words and trimmed."""
    for score, start, end in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        start, end = _widen_to_words(context, start, end)
        raw = context[start:end]
        text = raw.strip()
        if not text:
            continue
        start += len(raw) - len(raw.lstrip())
        end = start + len(text)
        sentence = sentence_containing(context, start, end)
        return Answer(text, score, start, end, sentence, truncated=question_cut)
    return Answer("", 0.0, 0, 0, "", truncated=question_cut)


def _widen_to_words(context: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span that starts or ends inside a word to the whole word, as align_to_words did."""
    while 0 < start < len(context) and context[start - 1].isalnum() and context[start].isalnum():
        start -= 1
    while 0 < end < len(context) and context[end - 1].isalnum() and context[end].isalnum():
        end += 1
    return start, end
