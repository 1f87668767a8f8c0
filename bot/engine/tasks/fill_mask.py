"""Fill in the blanks: the likeliest words for each mask in a text, with a masked LM.

Users may write a blank as ``<mask>``, ``[MASK]`` or ``___``; all become the tokenizer's mask
token. A text longer than the window keeps a window of the model's length centred on its masks
(truncated=True); masks too far apart for one window get a window each.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import torch
from transformers import AutoModelForMaskedLM

from bot.engine.errors import InvalidInput
from bot.engine.results import FillMaskResult, MaskCandidate
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, pad_batch
from bot.engine.tasks.checks import check_param_names, check_texts, int_param

DEFAULT_TOP_K = 5
MAX_TOP_K = 20
MAX_MASKS = 5
CANDIDATE_MARGIN = 32
"""Extra candidates fetched per mask, so skipping special or blank tokens still leaves top_k."""
MASK_FORMS = "<mask>, [MASK] or ___"

MASK_PATTERN = re.compile(r"<mask>|\[mask\]|_{3,}", re.IGNORECASE)


class FillMaskTask(Task):
    """Text with blanks -> FillMaskResult with top_k candidates per blank."""

    model_class: ClassVar[Any] = AutoModelForMaskedLM
    params: ClassVar[frozenset[str]] = frozenset({"top_k"})

    def validate(self, inputs: list[Any]) -> None:
        """Each text must hold 1..MAX_MASKS blanks."""
        check_texts(inputs, allow_empty=True)  # a blank text is refused below: it has no mask
        for text in inputs:
            count = len(MASK_PATTERN.findall(text))
            if count == 0:
                raise InvalidInput(f"the text has no mask: write {MASK_FORMS} for the blank")
            if count > MAX_MASKS:
                raise InvalidInput(f"at most {MAX_MASKS} masks per text, got {count}")

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """top_k in 1..MAX_TOP_K; the forward fetches a margin more, postprocess keeps top_k."""
        check_param_names(params, self.params)
        top_k = int_param(params, "top_k", DEFAULT_TOP_K, 1, MAX_TOP_K)
        return StepParams(
            forward={"candidates": top_k + CANDIDATE_MARGIN}, postprocess={"top_k": top_k}
        )

    def smoke_input(self) -> str:
        """One blank in a plain sentence."""
        return "Madrid es la <mask> de España."

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """One feature per text (or per far-apart group of masks), at most lm.max_length long."""
        tokenizer = lm.tokenizer
        mask_id = tokenizer.mask_token_id
        features: list[Feature] = []
        for index, text in enumerate(inputs):
            normalized = MASK_PATTERN.sub(lambda _: tokenizer.mask_token, text)
            content = list(tokenizer(normalized, add_special_tokens=False)["input_ids"])
            prefix, suffix = _special_ends(list(tokenizer(normalized)["input_ids"]), content)
            positions = [i for i, token in enumerate(content) if token == mask_id]
            if len(positions) != len(MASK_PATTERN.findall(text)):
                raise InvalidInput("the tokenizer merged a mask with its neighbours")
            room = max(lm.max_length - len(prefix) - len(suffix), 1)
            for group in _groups(positions, room):
                first, last = positions[group[0]], positions[group[-1]]
                begin = (first + last) // 2 - room // 2
                begin = max(0, min(begin, len(content) - room))
                end = min(len(content), begin + room)
                features.append(
                    Feature(
                        input_ids=prefix + content[begin:end] + suffix,
                        meta={
                            "request": index,
                            "masks": [(k, len(prefix) + positions[k] - begin) for k in group],
                            "cut": begin > 0 or end < len(content),
                        },
                    )
                )
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Probabilities and ids of the likeliest tokens at each mask position."""
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        rows = [row for row, f in enumerate(features) for _ in f.meta["masks"]]
        cols = [col for f in features for _, col in f.meta["masks"]]
        logits = _mask_logits(lm.model, batch, rows, cols).float()
        probs = torch.softmax(logits, dim=-1)
        keep = min(int(params["candidates"]), probs.shape[-1])  # type: ignore[call-overload]
        top = probs.topk(keep, dim=-1)
        values, ids = top.values.cpu().numpy(), top.indices.cpu().numpy()
        raws: list[Any] = []
        at = 0
        for feature in features:
            n = len(feature.meta["masks"])
            raws.append((values[at : at + n].copy(), ids[at : at + n].copy()))
            at += n
        return raws

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[FillMaskResult]:
        """Decode candidates, drop special and blank ones, fill each blank into the text."""
        top_k = params["top_k"]
        tokenizer = lm.tokenizer
        skip = set(tokenizer.all_special_ids)
        per_mask: list[dict[int, list[MaskCandidate]]] = [{} for _ in inputs]
        truncated = [False] * len(inputs)
        for feature, (values, ids) in zip(features, raws, strict=True):
            text = inputs[feature.meta["request"]]
            truncated[feature.meta["request"]] |= feature.meta["cut"]
            spans = list(MASK_PATTERN.finditer(text))
            for row, (k, _) in enumerate(feature.meta["masks"]):
                candidates: list[MaskCandidate] = []
                for score, token_id in zip(values[row], ids[row], strict=True):
                    if int(token_id) in skip:
                        continue
                    word = tokenizer.decode([int(token_id)]).strip()
                    if not word:
                        continue
                    span = spans[k]
                    sequence = text[: span.start()] + word + text[span.end() :]
                    candidates.append(MaskCandidate(word, float(score), sequence))
                    if len(candidates) == top_k:
                        break
                per_mask[feature.meta["request"]][k] = candidates
        return [
            FillMaskResult(masks=[found[k] for k in sorted(found)], truncated=cut)
            for found, cut in zip(per_mask, truncated, strict=True)
        ]


def _special_ends(full: list[int], content: list[int]) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a text (e.g. <s> and </s>)."""
    for start in range(len(full) - len(content) + 1):
        if full[start : start + len(content)] == content:
            return full[:start], full[start + len(content) :]
    raise ValueError("the tokenizer adds tokens inside the text; cannot window it")


def _groups(positions: list[int], room: int) -> list[list[int]]:
    """Indices of masks grouped so that each group fits in one window of `room` tokens."""
    groups: list[list[int]] = []
    for k, position in enumerate(positions):
        if groups and position - positions[groups[-1][0]] < room:
            groups[-1].append(k)
        else:
            groups.append([k])
    return groups


def _mask_logits(
    model: Any, batch: dict[str, torch.Tensor], rows: list[int], cols: list[int]
) -> torch.Tensor:
    """Vocabulary logits at the mask positions only; the full (batch, length, vocab) tensor of
    a 250k-word vocabulary would not fit in memory for long batches."""
    if (at_positions := getattr(model, "mask_logits", None)) is not None:  # a runtime's stand-in
        return at_positions(batch, rows, cols)  # type: ignore[no-any-return]
    head = getattr(model, "lm_head", None)
    if head is None:
        head = getattr(model, "cls", None)
    if head is None:
        return model(**batch).logits[rows, cols]
    hidden = model.base_model(**batch)[0]
    return head(hidden[rows, cols])
