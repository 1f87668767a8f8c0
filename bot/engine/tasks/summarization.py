"""Abstractive summaries with mT5: a long text is summarised chunk by chunk, in order.

A text that fits the model window is summarised in one go. A longer one is split at sentence
boundaries into window-sized chunks and all chunks of all requests go through one forward. A
news summariser writes one or two sentences per chunk, so the chunk summaries, joined in text
order, already read as a multi-sentence summary: that is the answer when they fit one window
and are at most ``MAX_JOINED`` sentences. Summarising them again would squeeze them into one
headline of headlines; only summaries too many or too long for that are summarised again, round
after round. After ``MAX_ROUNDS`` rounds what still does not fit is cut (truncated). A caller
that listens (``bot.progress.growing``) gets the first round's chunk summaries so far, in text
order, each time a forward finishes chunks.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from transformers import AutoModelForSeq2SeqLM

from bot.engine.results import Summary
from bot.engine.streaming import report_rows, streaming
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, TaskContext, pad_batch
from bot.engine.tasks.checks import check_param_names, check_texts, optional_int_param
from bot.engine.tasks.generation import published_new_tokens
from bot.engine.tasks.sentences import pack_sentences, split_sentences, token_counter
from bot.engine.tasks.translation import MAX_BEAMS, beams, eos_token_ids, generated_ids

MAX_ROUNDS = 4
"""Each round shrinks a text by about window / max_new_tokens; four rounds cover far more than
MAX_INPUT_CHARS with the defaults, so the cut only happens with a very large max_new_tokens."""
MAX_JOINED = 8
"""Chunk summaries returned side by side at most; a longer list is summarised again."""
FALLBACK_MAX_NEW_TOKENS = 96
"""Summary length for a model that publishes none (XL-Sum's mT5 publishes max_length 84)."""
MAX_NEW_TOKENS_LIMIT = 512

_SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*$")


@dataclass
class _Progress:
    """Where one text stands between rounds."""

    text: str
    chunks: int = 0
    rounds: int = 0
    truncated: bool = False
    done: bool = False


@dataclass(frozen=True)
class RoundOutput:
    """One text's round: its chunk summaries joined in order, and what that round found."""

    text: str
    summaries: int
    cut: bool
    final: bool
    """One summary, or few and short enough to be the answer as they are."""


def join_summaries(summaries: list[str]) -> str:
    """Chunk summaries in text order, each ending as a sentence, read as one summary."""
    if len(summaries) == 1:
        return summaries[0]
    return " ".join(s if _SENTENCE_END.search(s) else f"{s}." for s in summaries if s)


def summary_lengths(lm: LoadedModel, params: Mapping[str, Hashable]) -> tuple[int, int]:
    """(max, min) new tokens: the caller's, else the model's published ones, else a fallback."""
    asked_max, asked_min = params["max_new_tokens"], params["min_new_tokens"]
    if isinstance(asked_max, int):
        max_new = asked_max
    else:
        max_new = published_new_tokens(lm, "max", MAX_NEW_TOKENS_LIMIT) or FALLBACK_MAX_NEW_TOKENS
    if isinstance(asked_min, int):
        min_new = asked_min
    else:
        min_new = published_new_tokens(lm, "min", MAX_NEW_TOKENS_LIMIT) or 0
    return max_new, min(min_new, max_new)


class SummarizationTask(Task):
    """Summarise Spanish texts of any length up to MAX_INPUT_CHARS."""

    model_class: ClassVar[Any] = AutoModelForSeq2SeqLM
    params: ClassVar[frozenset[str]] = frozenset({"max_new_tokens", "min_new_tokens", "num_beams"})
    grows: ClassVar[bool] = True

    def validate(self, inputs: list[Any]) -> None:
        """Strings only; a blank one has an empty summary."""
        check_texts(inputs, allow_empty=True)

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """The generation settings are all the forward's; None means the model's own."""
        check_param_names(params, self.params)
        max_new = optional_int_param(params, "max_new_tokens", 1, MAX_NEW_TOKENS_LIMIT)
        return StepParams(
            preprocess={"last_round": False},
            forward={
                "max_new_tokens": max_new,
                "min_new_tokens": optional_int_param(
                    params,
                    "min_new_tokens",
                    0,
                    MAX_NEW_TOKENS_LIMIT if max_new is None else max_new,
                ),
                "num_beams": optional_int_param(params, "num_beams", 1, MAX_BEAMS),
            },
        )

    def smoke_input(self) -> Any:
        """Two short sentences, enough to produce a summary."""
        return "El tren sale a las ocho. María compra pan en el mercado antes de salir."

    def answer_without_model(self, inputs: list[Any], steps: StepParams) -> list[Any] | None:
        """Blank texts have an empty summary: no reason to load a model for them."""
        if any(text.strip() for text in inputs):
            return None
        return [Summary("", chunks=0, rounds=0) for _ in inputs]

    async def run(self, ctx: TaskContext, inputs: list[Any], steps: StepParams) -> list[Any]:
        """The three steps once per round, for the texts whose summaries are not final yet."""
        progress = [_Progress(text.strip()) for text in inputs]
        for item in progress:
            item.done = not item.text
        for round_number in range(1, MAX_ROUNDS + 1):
            pending = [item for item in progress if not item.done]
            if not pending:
                break
            texts = [p.text for p in pending]
            pre = {**steps.preprocess, "last_round": round_number == MAX_ROUNDS}
            features = await ctx.prepare(self.preprocess, ctx.lm, texts, pre)
            # Later rounds summarise the summaries: only the first grows, in the text's order.
            places = [n for n, item in enumerate(progress) if not item.done]
            growing = (
                streaming(ctx, self, texts, features, steps.postprocess, places)
                if round_number == 1
                else contextlib.nullcontext()
            )
            with growing:
                raws = await ctx.forward(features, steps.forward)
            outputs = await ctx.prepare(
                self.postprocess, ctx.lm, texts, features, raws, steps.postprocess
            )
            for item, output in zip(pending, outputs, strict=True):
                item.rounds = round_number
                item.chunks = item.chunks or output.summaries
                item.truncated = item.truncated or output.cut
                item.text = output.text
                item.done = output.final or not item.text
        return [Summary(p.text, p.chunks, p.rounds, p.truncated) for p in progress]

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """One feature per window-sized chunk; in the last round, one cut feature per text."""
        features: list[Feature] = []
        window = lm.max_length
        count = token_counter(lm.tokenizer)
        for index, text in enumerate(inputs):
            ids = lm.tokenizer(text, verbose=False)["input_ids"]
            if len(ids) <= window or params["last_round"]:
                cut = len(ids) > window
                if cut:
                    ids = [*ids[: window - 1], ids[-1]]
                features.append(Feature(ids, meta={"text": index, "cut": cut}))
                continue
            # One position is the EOS the tokenizer appends.
            for chunk in pack_sentences(split_sentences(text), count, window - 1):
                chunk_ids = lm.tokenizer(chunk, verbose=False)["input_ids"]
                cut = len(chunk_ids) > window
                if cut:  # only if the tokenizer merges differently across the packing
                    chunk_ids = [*chunk_ids[: window - 1], chunk_ids[-1]]
                features.append(Feature(chunk_ids, meta={"text": index, "cut": cut}))
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Beam (or greedy) generation for every chunk; generated ids come back per row."""
        max_new, min_new = summary_lengths(lm, params)
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        rows = lm.model.generate(
            **batch,
            max_new_tokens=max_new,
            min_new_tokens=min_new,
            num_beams=beams(lm, params["num_beams"]),
            do_sample=False,
        )
        eos_ids = eos_token_ids(lm)
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
        """Each text's chunk summaries up to its first chunk not summarised yet, joined; None
        for a text not begun or with every chunk summarised (its result is on its way)."""
        parts: list[list[str]] = [[] for _ in inputs]
        blocked: set[int] = set()
        for feature, ids in zip(features, raws, strict=True):
            index = feature.meta["text"]
            if ids is None:
                blocked.add(index)
            elif index not in blocked:
                parts[index].append(lm.tokenizer.decode(ids, skip_special_tokens=True).strip())
        return [
            Summary(join_summaries(found), chunks=len(found), rounds=1)
            if found and index in blocked
            else None
            for index, found in enumerate(parts)
        ]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[RoundOutput]:
        """Per text of this round: its chunk summaries joined, and whether they are the answer."""
        summaries: list[list[str]] = [[] for _ in inputs]
        cut = [False] * len(inputs)
        for feature, ids in zip(features, raws, strict=True):
            index = feature.meta["text"]
            summaries[index].append(lm.tokenizer.decode(ids, skip_special_tokens=True).strip())
            cut[index] = cut[index] or feature.meta["cut"]
        outputs = []
        for parts, was_cut in zip(summaries, cut, strict=True):
            text = join_summaries(parts)
            few = len(parts) == 1 or (
                len(parts) <= MAX_JOINED
                and len(lm.tokenizer(text, verbose=False)["input_ids"]) <= lm.max_length
            )
            outputs.append(RoundOutput(text, len(parts), was_cut, final=few))
        return outputs
