"""Abstractive summaries with mT5, recursively: chunk summaries are summarised again.

A text that fits the model window is summarised in one go. A longer one is split at sentence
boundaries into window-sized chunks; all chunks of all requests go through one forward, each
text's chunk summaries are joined and summarised again, round after round, until the joined
text fits one window. After ``MAX_ROUNDS`` rounds what still does not fit is cut (truncated).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from transformers import AutoModelForSeq2SeqLM

from bot.engine.results import Summary
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, TaskContext, pad_batch
from bot.engine.tasks.checks import check_param_names, check_texts, int_param
from bot.engine.tasks.sentences import pack_sentences, split_sentences, token_counter
from bot.engine.tasks.translation import MAX_BEAMS, eos_token_ids, generated_ids

MAX_ROUNDS = 4
"""Each round shrinks a text by about window / max_new_tokens; four rounds cover far more than
MAX_INPUT_CHARS with the defaults, so the cut only happens with a very large max_new_tokens."""
DEFAULT_MAX_NEW_TOKENS = 96
MAX_NEW_TOKENS_LIMIT = 512


@dataclass
class _Progress:
    """Where one text stands between rounds."""

    text: str
    chunks: int = 0
    rounds: int = 0
    truncated: bool = False
    done: bool = False


class SummarizationTask(Task):
    """Summarise Spanish texts of any length up to MAX_INPUT_CHARS."""

    model_class: ClassVar[Any] = AutoModelForSeq2SeqLM
    params: ClassVar[frozenset[str]] = frozenset({"max_new_tokens", "min_new_tokens", "num_beams"})

    def validate(self, inputs: list[Any]) -> None:
        """Strings only; a blank one has an empty summary."""
        check_texts(inputs, allow_empty=True)

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """The generation settings are all the forward's: they are what batches must agree on."""
        check_param_names(params, self.params)
        max_new = int_param(
            params, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS, 1, MAX_NEW_TOKENS_LIMIT
        )
        return StepParams(
            preprocess={"last_round": False},
            forward={
                "max_new_tokens": max_new,
                "min_new_tokens": int_param(params, "min_new_tokens", 0, 0, max_new),
                "num_beams": int_param(params, "num_beams", 1, 1, MAX_BEAMS),
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
        """The three steps once per round, for the chunks of every text still being summarised."""
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
            raws = await ctx.forward(features, steps.forward)
            outputs = await ctx.prepare(
                self.postprocess, ctx.lm, texts, features, raws, steps.postprocess
            )
            for item, (summaries, cut) in zip(pending, outputs, strict=True):
                item.rounds = round_number
                item.chunks = item.chunks or len(summaries)
                item.truncated = item.truncated or cut
                item.text = " ".join(s for s in summaries if s)
                item.done = len(summaries) == 1 or not item.text
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
        """Greedy (or beam) generation for every chunk; generated ids come back per row."""
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        rows = lm.model.generate(
            **batch,
            max_new_tokens=params["max_new_tokens"],
            min_new_tokens=params["min_new_tokens"],
            num_beams=params["num_beams"],
            do_sample=False,
        )
        eos_ids = eos_token_ids(lm)
        return [generated_ids(row, eos_ids, lm.pad_token_id) for row in rows.cpu().tolist()]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[tuple[list[str], bool]]:
        """Per text of this round: its chunk summaries in order, and whether anything was cut."""
        grouped: list[tuple[list[str], bool]] = [([], False) for _ in inputs]
        for feature, ids in zip(features, raws, strict=True):
            summaries, cut = grouped[feature.meta["text"]]
            summaries.append(lm.tokenizer.decode(ids, skip_special_tokens=True).strip())
            grouped[feature.meta["text"]] = (summaries, cut or feature.meta["cut"])
        return grouped
