"""One name per label: what the engine's results carry, however a model spells it."""

from __future__ import annotations

import pytest

from bot import texts
from bot.engine.labels import (
    KNOWN_LABELS,
    SENTIMENT_LABELS,
    UPOS_TAGS,
    is_known,
    normalize_label,
    normalize_labels,
)

ROBERTUITO_POS = [
    "B-VERB", "B-PUNCT", "B-PRON", "B-NOUN", "B-DET", "B-ADV", "B-ADP", "B-INTJ", "B-CONJ",
    "B-ADJ", "B-AUX", "B-SCONJ", "B-PART", "B-PROPN", "B-NUM", "B-UNK", "B-X",
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("B-NOUN", "NOUN"),
        ("I-VERB", "VERB"),
        ("S-ADJ", "ADJ"),
        ("B-CONJ", "CCONJ"),
        ("CONJ", "CCONJ"),
        ("B-UNK", "X"),
        ("PRT", "PART"),
        (".", "PUNCT"),
        ("noun", "NOUN"),
        ("X", "X"),
        ("B-X", "X"),
    ],
)
def test_pos_tags_lose_chunk_prefixes_and_old_names(label: str, expected: str) -> None:
    assert normalize_label("pos", label) == expected


def test_every_robertuito_pos_label_is_a_upos_tag_with_a_spanish_name() -> None:
    tags = normalize_labels("pos", ROBERTUITO_POS)
    assert set(tags) <= set(UPOS_TAGS)
    assert all(tag in texts.POS_NAMES for tag in tags)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("POS", "POS"),
        ("positive", "POS"),
        ("Negative", "NEG"),
        ("neutral", "NEU"),
        ("NONE", "NEU"),
        ("negativo", "NEG"),
    ],
)
def test_sentiment_spellings_become_pos_neg_neu(label: str, expected: str) -> None:
    assert normalize_label("sentiment", label) == expected


def test_generic_sentiment_labels_are_named_only_where_their_meaning_is_known() -> None:
    assert normalize_labels("sentiment", ["LABEL_0", "LABEL_1", "LABEL_2"]) == ["NEG", "NEU", "POS"]
    assert normalize_labels("sentiment", ["LABEL_0", "LABEL_1"]) == ["NEG", "POS"]
    five = [f"LABEL_{i}" for i in range(5)]
    assert normalize_labels("sentiment", five) == five
    assert normalize_label("sentiment", "LABEL_1") == "LABEL_1"


def test_unknown_labels_and_kinds_come_back_as_they_are() -> None:
    assert normalize_label("pos", "B-WEIRD") == "WEIRD"
    assert not is_known("pos", "B-WEIRD")
    assert normalize_label("sentiment", "joy") == "joy"
    assert normalize_label("language", " es ") == "es"
    assert is_known("pos", "B-CONJ") and is_known("sentiment", "positive")


def test_every_known_label_has_a_spanish_name() -> None:
    assert KNOWN_LABELS["pos"] == set(texts.POS_NAMES)
    assert KNOWN_LABELS["sentiment"] == set(SENTIMENT_LABELS) == set(texts.SENTIMENT_NAMES)
