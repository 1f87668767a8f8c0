"""CTranslate2's Generator standing in for a transformers decoder-only model (GPT-2).

Greedy search and unseeded sampling run in one batched call, CTranslate2 drawing the tokens
itself (a poem from /poema: any draw will do, so poems from many chats share a batch).

Seeded sampling (``seeded=True``, the default, as a ``seed`` asks): CTranslate2 keeps one random
generator per worker thread that cannot be seeded again, so a seeded poem could not repeat.
Tokens are drawn here instead, from torch's generator (which the task seeds per row), with
transformers' order of warpers (repetition penalty, temperature, top-k, top-p). CTranslate2
decodes greedily and reports each step's scores; a drawn token that is the greedy one is kept
as decoding goes on, and at the first other one decoding stops and resumes from prompt + kept
tokens. So each draw sees exactly the model's distribution after the tokens before it. A
``streamer`` (bot/engine/streaming.py) gets each row's tokens as they are kept, as
transformers' ``generate`` hands them to one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from bot.engine.runtimes.ctranslate2_base import Ct2Model, unpadded_rows


class Ct2Causal(Ct2Model):
    """Stands in for a transformers decoder-only model (GPT-2) under CTranslate2."""

    samples_unseeded = True
    """``generate`` takes ``seeded=False``: draw with CTranslate2's own generator, batched."""

    def __init__(self, generator: Any, *args: Any, start_token: str | None = None) -> None:
        super().__init__(*args)
        self.generator = generator
        self.start = self.ids.get(start_token or "", -1)

    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        max_new_tokens: int,
        do_sample: bool = False,
        repetition_penalty: float | None = None,
        num_beams: int = 1,
        pad_token_id: int | None = None,
        eos_token_id: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        position_ids: torch.Tensor | None = None,
        streamer: Any = None,
        seeded: bool = True,
    ) -> torch.Tensor:
        """The (left-padded) prompts followed by the new ids, padded after each row's end."""
        if num_beams != 1:
            raise NotImplementedError("poems are greedy or sampled, never beam searched")
        prompts = unpadded_rows(input_ids, attention_mask)
        eos = eos_token_id if eos_token_id is not None else self.published("eos_token_id", None)
        penalty = float(repetition_penalty or self.published("repetition_penalty", 1.0))
        top_k = int(self.published("top_k", 50) or 0)
        if do_sample and seeded:
            warp = _Warpers(
                penalty,
                float(temperature or 1.0),
                top_k,
                float(top_p or 1.0),
                (eos, min(int(self.published("min_new_tokens", 0)), max_new_tokens)),
            )
            new = self._sample(prompts, max_new_tokens, eos, warp, streamer)
        else:
            draw: dict[str, Any] = {"sampling_topk": 1}
            if do_sample:
                draw = {
                    "sampling_topk": top_k,
                    "sampling_topp": float(top_p or 1.0),
                    "sampling_temperature": float(temperature or 1.0),
                }
            new = self._batched(prompts, max_new_tokens, eos, penalty, draw, streamer)
        fill = eos if eos is not None else int(pad_token_id or 0)
        width = max(len(row) for row in new)
        tails = [row + [fill] * (width - len(row)) for row in new]
        return torch.cat(
            [input_ids.cpu(), torch.tensor(tails, dtype=torch.long).reshape(len(new), width)], 1
        )

    def _options(self, eos: int | None) -> dict[str, Any]:
        options: dict[str, Any] = {
            "return_end_token": True,
            "no_repeat_ngram_size": int(self.published("no_repeat_ngram_size", 0)),
            "suppress_sequences": self.suppressed(),
        }
        if eos is not None:
            options["end_token"] = [int(eos)]
        return options

    def _batched(
        self,
        prompts: list[list[int]],
        max_new: int,
        eos: int | None,
        penalty: float,
        draw: dict[str, Any],
        streamer: Any = None,
    ) -> list[list[int]]:
        """Continuations in one call: greedy ones exactly as each prompt gets alone.

        Prompts go through the decoding loop token by token (``include_prompt_in_result``):
        forwarded at once, the part of a prompt longer than the batch's shortest would be
        decoded step by step while the rest is not, and near-ties could then break differently
        in a batch than alone. The price is a slower start on long prompts. A minimum length
        then counts the prompt too, so with ``min_new_tokens`` prompts run in groups of equal
        length.
        """
        kept = [len(p) - (p[:1] == [self.start]) for p in prompts]  # a leading BOS is not kept
        min_new = min(int(self.published("min_new_tokens", 0)), max_new)
        groups = [list(range(len(prompts)))]
        if min_new and len(set(kept)) > 1:
            groups = [[n for n in range(len(prompts)) if kept[n] == k] for k in sorted(set(kept))]
        rows: list[list[int]] = [[] for _ in prompts]
        for group in groups:
            options = self._options(eos)
            if streamer is not None:
                options["callback"] = _BatchSteps(
                    [streamer.add_for(n) for n in group],
                    [len(prompts[n]) - 1 for n in group],  # the prompt's tokens are forced first
                    max_new,
                ).step
            results = self.generator.generate_batch(
                [self.tokens(prompts[n]) for n in group],
                max_batch_size=self.shares(len(group)),
                max_length=max(len(prompts[n]) for n in group) + max_new,
                min_length=kept[group[0]] + min_new if min_new else 0,
                repetition_penalty=penalty,
                **draw,
                include_prompt_in_result=True,
                **options,
            )
            for n, result in zip(group, results, strict=True):
                rows[n] = list(result.sequences_ids[0])[kept[n] :][:max_new]
        return rows

    def _sample(
        self,
        prompts: list[list[int]],
        max_new: int,
        eos: int | None,
        warp: _Warpers,
        streamer: Any = None,
    ) -> list[list[int]]:
        """Draw every token here, from torch's generator, resuming where CTranslate2 disagrees.

        One row at a time: CTranslate2 hands a step's scores over once for the whole batch, in
        its own order. A seeded poem runs alone in torch too, one seed stream per prompt.
        """
        return [
            self._sample_one(p, max_new, eos, warp, streamer.add_for(n) if streamer else None)
            for n, p in enumerate(prompts)
        ]

    def _sample_one(
        self,
        prompt: list[int],
        max_new: int,
        eos: int | None,
        warp: _Warpers,
        on_token: Callable[[int], None] | None = None,
    ) -> list[int]:
        kept: list[int] = []
        while len(kept) < max_new and (not kept or kept[-1] != eos):
            draws = _Draws(prompt, kept, max_new, eos, warp, on_token)
            self.generator.generate_batch(
                [self.tokens(prompt + kept)],
                max_length=max_new - len(kept),
                min_length=max(0, warp.min_new - len(kept)),
                sampling_topk=1,
                return_logits_vocab=True,
                callback=draws.step,
                include_prompt_in_result=False,
                **self._options(eos),
            )
            if not draws.finish():  # CTranslate2 ended without a step: nothing more to draw
                break
        return kept


class _Draws:
    """One greedy pass of the sampling loop: keeps each drawn token until one disagrees."""

    def __init__(
        self,
        prompt: list[int],
        kept: list[int],
        max_new: int,
        eos: int | None,
        warp: _Warpers,
        on_token: Callable[[int], None] | None = None,
    ) -> None:
        self.prompt, self.kept, self.max_new, self.eos, self.warp = prompt, kept, max_new, eos, warp
        self.on_token = on_token
        self.before = len(kept)
        self.broke: int | None = None
        self.errors: list[BaseException] = []

    def step(self, result: Any) -> bool:
        """Called by CTranslate2 for each greedy token; True stops decoding."""
        try:
            history = self.prompt + self.kept
            token = self.warp.draw(np.array(result.logits)[0], history, len(self.kept))
        except BaseException as exc:  # raised inside CTranslate2's thread: re-raised after
            self.errors.append(exc)
            return True
        if token != result.token_id:
            self.broke = token
            return True
        self._keep(token)
        return token == self.eos or len(self.kept) >= self.max_new

    def _keep(self, token: int) -> None:
        self.kept.append(token)
        if self.on_token is not None:
            self.on_token(token)

    def finish(self) -> bool:
        """Re-raise a failed draw, keep the token that stopped decoding; False if no progress."""
        if self.errors:
            raise self.errors[0]
        if self.broke is not None:
            self._keep(self.broke)
        return len(self.kept) > self.before


class _BatchSteps:
    """CTranslate2's per-step callback for a batched call: each row's new tokens, in order."""

    def __init__(
        self, on_token: list[Callable[[int], None]], forced: list[int], max_new: int
    ) -> None:
        self.on_token = on_token
        self.forced = forced  # callbacks that still replay a row's prompt
        self.left = [max_new] * len(on_token)

    def step(self, result: Any) -> bool:
        """Called by CTranslate2 for each token of each row; never stops decoding."""
        row = result.batch_id
        if self.forced[row] > 0:
            self.forced[row] -= 1
        elif self.left[row] > 0:
            self.left[row] -= 1
            self.on_token[row](int(result.token_id))
        return False


class _Warpers:
    """transformers' sampling order: repetition penalty, temperature, top-k, top-p, draw."""

    def __init__(
        self,
        penalty: float,
        temperature: float,
        top_k: int,
        top_p: float,
        min_new: tuple[int | None, int] = (None, 0),
    ) -> None:
        self.end, self.min_new = min_new
        self.penalty = penalty
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p

    def draw(self, scores: np.ndarray, history: list[int], new: int = 0) -> int:
        """One token for a row that has ``new`` tokens so far after ``history``'s prompt."""
        logits = torch.from_numpy(np.array(scores, dtype=np.float32))
        if self.end is not None and new < self.min_new:
            logits[self.end] = -float("inf")
        if self.penalty != 1.0 and history:
            seen = torch.tensor(sorted(set(history)), dtype=torch.long)
            picked = logits[seen]
            logits[seen] = torch.where(picked < 0, picked * self.penalty, picked / self.penalty)
        logits = logits / self.temperature
        if 0 < self.top_k < logits.numel():
            kth = torch.topk(logits, self.top_k).values[-1]
            logits = logits.masked_fill(logits < kth, -float("inf"))
        if self.top_p < 1.0:
            ordered, order = torch.sort(logits)
            cumulative = ordered.softmax(-1).cumsum(-1)
            drop = cumulative <= 1 - self.top_p
            drop[-1] = False
            logits = logits.masked_fill(drop.scatter(0, order, drop), -float("inf"))
        return int(torch.multinomial(logits.softmax(-1), 1))
