"""Translation with Marian (opus-mt) models, sentence-packed so long texts translate whole.

Each text is split at blank lines into paragraphs and each paragraph into sentences; consecutive
sentences are packed into pieces that fit comfortably in the model window and every piece is one
feature. Each piece stops at its own length limit (carried in ``meta``), so pieces of any length
from any request batch together and a piece's output never depends on its batch neighbours.
Beams are the model's published ones (opus-mt: 4) unless the caller or ``GENERATION_<KEY>``
says otherwise; the rest of its generation config (``bad_words_ids``, ``length_penalty``...)
``generate`` applies by itself. A caller that listens (``bot.progress.growing``) gets the text
translated so far each time a forward finishes pieces (beam search cannot stream tokens): the
pieces of a long text fill several batches of BATCH_MAX_SIZE.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, ClassVar, cast

import torch
from transformers import AutoModelForSeq2SeqLM, LogitsProcessor, LogitsProcessorList

from bot.engine.results import Translation
from bot.engine.streaming import report_rows
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, pad_batch
from bot.engine.tasks.checks import check_param_names, check_texts, optional_int_param
from bot.engine.tasks.generation import published_int
from bot.engine.tasks.sentences import (
    pack_sentences,
    split_paragraphs,
    split_sentences,
    token_counter,
)

MAX_PIECE_TOKENS = 160
"""Marian is trained on sentences and starts dropping content on long inputs: a few at most."""
MAX_BEAMS = 4
MAX_NEW_TOKENS_LIMIT = 1024


def generated_ids(row: list[int], eos_ids: list[int], pad_id: int) -> list[int]:
    """A generated row without its decoder start token, cut after the first EOS."""
    out: list[int] = []
    for token in row[1:]:
        out.append(token)
        if token in eos_ids:
            return out
    while out and out[-1] == pad_id:
        out.pop()
    return out


def eos_token_ids(lm: LoadedModel) -> list[int]:
    """The ids that end generation, from the generation config (one id or several)."""
    eos = lm.model.generation_config.eos_token_id
    if eos is None:
        eos = lm.tokenizer.eos_token_id
    return [int(e) for e in (eos if isinstance(eos, list) else [eos])]


def beams(lm: LoadedModel, asked: Hashable) -> int:
    """The beams asked for, else the model's published ones (capped), else greedy."""
    if isinstance(asked, int):
        return asked
    return published_int(lm, "num_beams", 1, MAX_BEAMS) or 1


class RowLimitProcessor(LogitsProcessor):
    """Forces EOS when a row reaches its own limit, exactly as a lone run with that limit would."""

    def __init__(self, limits: list[int], num_beams: int, eos_id: int) -> None:
        self.limits = torch.tensor(limits, dtype=torch.long).repeat_interleave(num_beams)
        self.eos_id = eos_id
        self.start: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.start is None:
            self.start = input_ids.shape[-1]
        step = input_ids.shape[-1] - self.start + 1  # 1-based number of the token being chosen
        rows = (self.limits == step).to(scores.device)
        if not bool(rows.any()):
            return scores
        forced = scores.clone()
        forced[rows] = -float("inf")
        forced[rows, self.eos_id] = 0.0
        return cast(torch.FloatTensor, forced)


class TranslationTask(Task):
    """Translate texts from ``source`` to ``target`` with a Marian model."""

    model_class: ClassVar[Any] = AutoModelForSeq2SeqLM
    params: ClassVar[frozenset[str]] = frozenset({"max_new_tokens", "num_beams"})
    grows: ClassVar[bool] = True

    def __init__(self, source: str, target: str) -> None:
        self.source = source
        self.target = target

    def validate(self, inputs: list[Any]) -> None:
        """Strings only; a blank one translates to nothing."""
        check_texts(inputs, allow_empty=True)

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """Beams are what a batch shares (None: the model's); the length cap is each piece's own."""
        check_param_names(params, self.params)
        return StepParams(
            preprocess={
                "max_new_tokens": optional_int_param(
                    params, "max_new_tokens", 1, MAX_NEW_TOKENS_LIMIT
                )
            },
            forward={"num_beams": optional_int_param(params, "num_beams", 1, MAX_BEAMS)},
        )

    def smoke_input(self) -> Any:
        """One short sentence in the source language."""
        return "Hello, how are you today?" if self.source == "en" else super().smoke_input()

    def answer_without_model(self, inputs: list[Any], steps: StepParams) -> list[Any] | None:
        """Blank texts translate to nothing: no reason to load a model for them."""
        if any(text.strip() for text in inputs):
            return None
        return [Translation("", self.source, self.target, pieces=0) for _ in inputs]

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """Split into paragraphs, sentences and pieces; each piece knows where it goes back."""
        max_new = params["max_new_tokens"]
        # The decoder shares the window: its start token takes one position.
        cap = lm.max_length - 1 if max_new is None else min(max_new, lm.max_length - 1)
        budget = max(8, min(MAX_PIECE_TOKENS, lm.max_length * 3 // 4))
        count = token_counter(lm.tokenizer)
        features: list[Feature] = []
        for index, text in enumerate(inputs):
            paragraphs, separators = split_paragraphs(text)
            for number, paragraph in enumerate(paragraphs):
                pieces = pack_sentences(split_sentences(paragraph), count, budget)
                for order, piece in enumerate(pieces):
                    ids = lm.tokenizer(piece, verbose=False)["input_ids"]
                    cut = len(ids) > lm.max_length
                    if cut:  # only reachable when the tokenizer merges across the packing
                        ids = [*ids[: lm.max_length - 1], ids[-1]]
                    natural = 2 * len(ids) + 10  # a guard against looping, not a real limit
                    separator = separators[number - 1] if number and not order else ""
                    features.append(Feature(ids, meta={
                        "text": index, "separator": separator, "cut": cut,
                        "limit": min(cap, natural), "capped": cap < natural,
                    }))  # fmt: skip
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Generate every piece; each row stops at EOS or at its own limit."""
        num_beams = beams(lm, params["num_beams"])
        limits = [int(f.meta["limit"]) for f in features]
        eos_ids = eos_token_ids(lm)
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        rows = lm.model.generate(
            **batch,
            max_new_tokens=max(limits),
            num_beams=num_beams,
            do_sample=False,
            logits_processor=LogitsProcessorList(
                [RowLimitProcessor(limits, num_beams, eos_ids[0])]
            ),
        )
        raws = [generated_ids(row, eos_ids, lm.pad_token_id) for row in rows.cpu().tolist()]
        report_rows(features, raws)
        return raws

    def partial(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any | None],
        params: Mapping[str, Any],
    ) -> list[Any | None]:
        """Each text's translation up to its first piece not translated yet; None for a text
        not begun or already whole (its result is on its way)."""
        done, blocked = [], set()
        for feature, raw in zip(features, raws, strict=True):
            index = feature.meta["text"]
            if raw is None:
                blocked.add(index)
            elif index not in blocked:
                done.append((feature, raw))
        started = {feature.meta["text"] for feature, _ in done}
        results = self.postprocess(lm, inputs, [f for f, _ in done], [r for _, r in done], params)
        return [r if i in started & blocked else None for i, r in enumerate(results)]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Translation]:
        """Decode pieces and join them back: spaces within a paragraph, the original breaks."""
        n_inputs = len(inputs)
        texts = [""] * n_inputs
        pieces = [0] * n_inputs
        truncated = [False] * n_inputs
        for feature, ids in zip(features, raws, strict=True):
            index = feature.meta["text"]
            decoded = lm.tokenizer.decode(ids, skip_special_tokens=True).strip()
            open_sentence = texts[index] and not texts[index][-1].isspace()
            joiner = feature.meta["separator"] or (" " if open_sentence and decoded else "")
            texts[index] += joiner + decoded
            pieces[index] += 1
            hit_cap = feature.meta["capped"] and len(ids) >= feature.meta["limit"]
            truncated[index] = truncated[index] or feature.meta["cut"] or hit_cap
        return [
            Translation(texts[i], self.source, self.target, pieces[i], truncated[i])
            for i in range(n_inputs)
        ]
