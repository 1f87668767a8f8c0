"""CTranslate2's Translator standing in for a transformers encoder-decoder (Marian, mT5).

Per-row limits (translation's ``RowLimitProcessor``): CTranslate2 has one maximum length per
call. Greedy search is cut per row afterwards, which is exact: a greedy row's first tokens do
not depend on its limit. Beam search runs once at the longest limit; only the rows that reach
their own limit run again, grouped by limit, so a row that ends by itself (nearly every row:
the limits are guards against loops) costs one batched call. A row that ended before its
limit keeps its hypothesis, as it would alone: CTranslate2 finishes a row when its best beam
ends, whatever the limit.
"""

from __future__ import annotations

from typing import Any

import torch

from bot.engine.runtimes.ctranslate2_base import Ct2Model, padded, unpadded_rows, until_end
from bot.engine.tasks.translation import RowLimitProcessor


class Ct2Seq2Seq(Ct2Model):
    """Stands in for a transformers encoder-decoder (Marian, mT5) under CTranslate2."""

    def __init__(self, translator: Any, *args: Any) -> None:
        super().__init__(*args)
        self.translator = translator

    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        max_new_tokens: int,
        num_beams: int = 1,
        do_sample: bool = False,
        min_new_tokens: int | None = None,
        logits_processor: list[Any] | None = None,
    ) -> torch.Tensor:
        """Decoder start + generated ids per row, padded, as transformers returns them."""
        if do_sample:
            raise NotImplementedError("sampling is not used with encoder-decoder models")
        sources = [self.tokens(row) for row in unpadded_rows(input_ids, attention_mask)]
        eos = int(self.published("eos_token_id", self.config.eos_token_id))
        limits = [int(max_new_tokens)] * len(sources)
        forced_end = self.published("forced_eos_token_id", None) is not None
        for processor in logits_processor or []:
            if not isinstance(processor, RowLimitProcessor):
                raise NotImplementedError(f"{type(processor).__name__} is torch-only")
            limits = [int(x) for x in processor.limits.tolist()[::num_beams]]
            eos, forced_end = processor.eos_id, True
        min_new = (
            min_new_tokens if min_new_tokens is not None else self.published("min_new_tokens", 0)
        )
        options = {
            "beam_size": num_beams,
            "min_decoding_length": int(min_new),
            "length_penalty": float(self.published("length_penalty", 1.0)),
            "repetition_penalty": float(self.published("repetition_penalty", 1.0)),
            "no_repeat_ngram_size": int(self.published("no_repeat_ngram_size", 0)),
            "suppress_sequences": self.suppressed(),
            "return_end_token": True,
        }
        rows = self._limited(sources, limits, eos, forced_end, options)
        start = int(self.config.decoder_start_token_id)
        return padded([[start, *row] for row in rows], int(self.config.pad_token_id or 0))

    def _limited(
        self,
        sources: list[list[str]],
        limits: list[int],
        eos: int,
        forced_end: bool,
        options: dict[str, Any],
    ) -> list[list[int]]:
        """Each row stopped at its own limit (see the module docstring for how)."""
        # A forced end token takes the limit's last step, as RowLimitProcessor does in torch.
        room = [limit - 1 if forced_end else limit for limit in limits]
        rows = [until_end(row, {eos}) for row in self._translate(sources, max(room), options)]

        def ended(n: int) -> bool:
            return rows[n][-1:] == [eos] and len(rows[n]) <= room[n]

        if options["beam_size"] > 1:
            redo = [n for n in range(len(rows)) if room[n] < max(room) and not ended(n)]
            for limit in sorted({room[n] for n in redo}):
                group = [n for n in redo if room[n] == limit]
                again = self._translate([sources[n] for n in group], limit, options)
                for n, row in zip(group, again, strict=True):
                    rows[n] = until_end(row, {eos})
        return [
            rows[n] if ended(n) else rows[n][: room[n]] + ([eos] if forced_end else [])
            for n in range(len(rows))
        ]

    def _translate(
        self, sources: list[list[str]], length: int, options: dict[str, Any]
    ) -> list[list[int]]:
        if length <= 0:
            return [[] for _ in sources]
        # A minimum past the limit ends at the limit, as torch's forced end token does.
        shortest = min(options["min_decoding_length"], length)
        results = self.translator.translate_batch(
            sources,
            max_batch_size=self.shares(len(sources)),
            max_decoding_length=length,
            max_input_length=0,
            **{**options, "min_decoding_length": shortest},
        )
        return [self.to_ids(result.hypotheses[0]) for result in results]
