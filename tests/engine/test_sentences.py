"""Where long texts break: sentences, paragraphs, packing by tokens, the sentence around a span."""

from __future__ import annotations

import pytest

from bot.engine.tasks.sentences import (
    pack_sentences,
    pack_token_windows,
    sentence_containing,
    sentence_spans,
    split_paragraphs,
    split_sentences,
)


def test_sentences_respect_abbreviations_and_initials() -> None:
    text = "El Sr. López llegó a las 8.30. ¿Dónde está? ¡Qué bien!  J. R. Tolkien dijo «no.» Y ya"
    assert split_sentences(text) == [
        "El Sr. López llegó a las 8.30.", "¿Dónde está?", "¡Qué bien!",
        "J. R. Tolkien dijo «no.»", "Y ya",
    ]  # fmt: skip


def test_a_line_break_ends_a_sentence() -> None:
    assert split_sentences("Hola. ¿Qué tal? Bien\nAdiós…  Fin") == [
        "Hola.", "¿Qué tal?", "Bien", "Adiós…", "Fin",
    ]  # fmt: skip
    assert split_sentences("Saludos,\nel Sr.\nLópez") == ["Saludos,", "el Sr.", "López"]


def test_sentences_inner_whitespace_is_one_space() -> None:
    assert split_sentences("  Uno\t dos.   Tres  \n\n ") == ["Uno dos.", "Tres"]
    assert split_sentences(" \n\t ") == []


def test_spans_point_into_the_original_text() -> None:
    text = "  Uno.  Dos tres!\n\nCuatro "
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Uno.", "Dos tres!", "Cuatro"]


def test_paragraphs_keep_their_exact_breaks() -> None:
    assert split_paragraphs("  a\n\nb\n \n\nc \n") == (["a", "b", "c"], ["\n\n", "\n \n\n"])


def test_packing_is_greedy_and_splits_at_commas_then_spaces() -> None:
    chars = len  # one "token" per character keeps the arithmetic visible
    assert pack_sentences(["aa.", "bb.", "cc."], chars, 7) == ["aa. bb.", "cc."]
    assert pack_sentences(["a, b c d, e."], chars, 6) == ["a,", "b c d,", "e."]
    assert pack_sentences(["abcdefghij"], chars, 4) == ["abcd", "efgh", "ij"]


def test_token_windows_keep_every_token_within_budget() -> None:
    pieces = [[1, 2, 3], [4], list(range(10, 25)), [5, 6]]
    windows = pack_token_windows(pieces, budget=4)
    assert all(1 <= len(w) <= 4 for w in windows)
    assert [t for w in windows for t in w] == [t for p in pieces for t in p]
    assert windows[0] == [1, 2, 3, 4]
    assert pack_token_windows([], budget=4) == [[]]


@pytest.mark.parametrize(
    ("context", "word", "sentence"),
    [
        ("Uno. Dos tres. Cuatro.", "tres", "Dos tres."),
        ("¿Vienes? ¡Claro que sí! Vale.", "Claro", "¡Claro que sí!"),
        ("Primera línea\nsegunda línea sin punto", "segunda", "segunda línea sin punto"),
        ("Sin final de frase aquí", "final", "Sin final de frase aquí"),
        ("Dijo «ven aquí.» Y fue.", "ven", "Dijo «ven aquí.»"),
        ("Hola. El Sr. López vive en Lima. Adiós.", "Lima", "El Sr. López vive en Lima."),
    ],
)
def test_sentence_containing_a_word(context: str, word: str, sentence: str) -> None:
    start = context.index(word)
    assert sentence_containing(context, start, start + len(word)) == sentence


def test_sentence_containing_a_span_across_sentences() -> None:
    context = "Uno. Dos tres. Cuatro cinco."
    start, end = context.index("tres"), context.index("Cuatro") + len("Cuatro")
    assert sentence_containing(context, start, end) == "Dos tres. Cuatro cinco."
