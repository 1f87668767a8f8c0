"""What the CTranslate2 stand-ins share: the token table and transformers' attributes."""

from __future__ import annotations

import math
from typing import Any

import torch


class Ct2Model:
    """What both stand-ins share: the token table and the transformers-like attributes."""

    def __init__(
        self, vocabulary: list[str], config: Any, generation: Any, size: int, workers: int = 1
    ) -> None:
        self.vocabulary = vocabulary
        self.ids = {token: i for i, token in enumerate(vocabulary)}
        self.config = config
        self.generation_config = generation
        self.memory_bytes = size
        self.workers = workers
        """CTranslate2 workers (``inter_threads``) that share each call's rows."""

    def shares(self, rows: int) -> int:
        """``max_batch_size`` that gives each worker its share of a call's rows (0: no split)."""
        return math.ceil(rows / self.workers) if self.workers > 1 and rows > 1 else 0

    def tokens(self, ids: list[int]) -> list[str]:
        return [self.vocabulary[i] for i in ids]

    def to_ids(self, tokens: list[str]) -> list[int]:
        return [self.ids[t] for t in tokens]

    def published(self, name: str, default: Any) -> Any:
        value = getattr(self.generation_config, name, None)
        return default if value is None else value

    def suppressed(self) -> list[list[str]] | None:
        """``bad_words_ids`` as token sequences; ids outside the converted vocabulary (Marian's
        padding, which CTranslate2 drops) can never be generated anyway."""
        banned = self.published("bad_words_ids", [])
        sequences = [
            self.tokens(seq) for seq in banned if all(0 <= i < len(self.vocabulary) for i in seq)
        ]
        return sequences or None


def unpadded_rows(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> list[list[int]]:
    """Each row's ids without padding, left or right."""
    out = []
    for ids, mask in zip(input_ids.tolist(), attention_mask.tolist(), strict=True):
        out.append([i for i, m in zip(ids, mask, strict=True) if m])
    return out


def until_end(ids: list[int], eos: set[int]) -> list[int]:
    """Ids up to and including the first end token."""
    for n, token in enumerate(ids):
        if token in eos:
            return ids[: n + 1]
    return ids


def padded(rows: list[list[int]], pad: int) -> torch.Tensor:
    """Rows of ids as one tensor, right-padded with ``pad``."""
    width = max(len(row) for row in rows)
    return torch.tensor([row + [pad] * (width - len(row)) for row in rows], dtype=torch.long)
