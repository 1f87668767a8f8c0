"""One name per label, whatever the model calls it: results carry these, handlers name them.

Models spell the same label many ways: ``pysentimiento/robertuito-pos`` says ``B-CONJ`` for
what Universal Dependencies calls ``CCONJ``; sentiment models say ``POS``, ``positive`` or
``LABEL_2``. The engine normalises labels per kind (the task key), so a handler looks up one
table and a new model with new spellings is one alias here. Imports no torch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

UPOS_TAGS: tuple[str, ...] = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
    "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip
"""The 17 Universal Dependencies part-of-speech tags: what POS results carry."""

SENTIMENT_LABELS: tuple[str, ...] = ("NEG", "NEU", "POS")
"""What sentiment results carry."""

KNOWN_LABELS: dict[str, frozenset[str]] = {
    "pos": frozenset(UPOS_TAGS),
    "sentiment": frozenset(SENTIMENT_LABELS),
}
"""The normalised labels of each kind; a label outside them is shown with a fallback name."""

# Older tag sets name some UPOS tags differently: LinCE and UD v1 say CONJ, LinCE adds UNK
# for "unknown", the Petrov universal tag set says PRT and ".".
_POS_ALIASES: dict[str, str] = {"CONJ": "CCONJ", "UNK": "X", "PRT": "PART", ".": "PUNCT"}

# Lowercased spellings of the three sentiments; TASS's NONE (no sentiment at all) reads as neutral.
_SENTIMENT_ALIASES: dict[str, str] = {
    "pos": "POS", "positive": "POS", "positivo": "POS", "p": "POS",
    "neg": "NEG", "negative": "NEG", "negativo": "NEG", "n": "NEG",
    "neu": "NEU", "neutral": "NEU", "neutro": "NEU", "none": "NEU",
}  # fmt: skip

# Models without names say LABEL_<id>; the meaning follows the usual order for the label count
# (3: negative, neutral, positive as in cardiffnlp's models; 2: negative, positive as in SST-2).
_SENTIMENT_BY_ID: dict[int, tuple[str, ...]] = {3: ("NEG", "NEU", "POS"), 2: ("NEG", "POS")}

# IOB and BIOES chunk prefixes: a tagger that labels one word at a time only adds them for
# seqeval, so the part after the dash is the tag.
_CHUNK_PREFIX = re.compile(r"^[BIESLU]-(?=.)", re.IGNORECASE)
_GENERIC = re.compile(r"^LABEL_(\d+)$", re.IGNORECASE)


def normalize_label(kind: str, label: str, count: int | None = None) -> str:
    """The label's one name for its kind (a task key); unknown spellings come back trimmed.

    ``count`` is how many labels the model has: it gives ``LABEL_<id>`` its meaning.
    """
    label = label.strip()
    if kind == "pos":
        tag = _CHUNK_PREFIX.sub("", label).upper()
        return _POS_ALIASES.get(tag, tag)
    if kind == "sentiment":
        if (generic := _GENERIC.match(label)) and count in _SENTIMENT_BY_ID:
            names = _SENTIMENT_BY_ID[count]
            index = int(generic.group(1))
            return names[index] if index < len(names) else label
        return _SENTIMENT_ALIASES.get(label.casefold(), label)
    return label


def normalize_labels(kind: str, labels: Sequence[str]) -> list[str]:
    """A model's labels in id order, each under its one name."""
    return [normalize_label(kind, label, len(labels)) for label in labels]


def is_known(kind: str, label: str) -> bool:
    """Whether a label, once normalised, is one the handlers have a name for."""
    return normalize_label(kind, label) in KNOWN_LABELS.get(kind, frozenset())
