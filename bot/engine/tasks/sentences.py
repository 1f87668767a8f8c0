"""Where long texts break: paragraphs, sentences, and pieces that fit a model's window.

Every task that has to cut a text cuts it here, so translation pieces, summary chunks,
classification windows and the sentence shown around an answer agree on what a sentence is.
A sentence ends at ``. ! ? …`` (with any closing quotes or brackets) before a space, or at a
line break; a lone dot after an abbreviation or an initial ("Sr.", "J. R.") does not end one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_PARAGRAPH_BREAK = re.compile(r"(\n[ \t\r\f\v]*\n\s*)")
_LINE = re.compile(r"[^\n]+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+")
_WORD_BEFORE = re.compile(r"(\w+)$")
_ABBREVIATIONS = frozenset({
    "sr", "sra", "srta", "sres", "dr", "dra", "dres", "ud", "uds", "vd", "vds", "lic", "prof",
    "av", "avda", "pág", "págs", "núm", "vol", "fig", "aprox", "mr", "mrs", "ms", "st", "vs",
    "jr", "tel", "ej",
})  # fmt: skip
# Ever finer places to break a sentence that alone does not fit: clauses, then words.
_BREAKS = (re.compile(r"(?<=[,;:])\s+"), re.compile(r"\s+"))


def split_paragraphs(text: str) -> tuple[list[str], list[str]]:
    """Paragraphs and the exact blank-line runs between them, so they can be put back."""
    parts = _PARAGRAPH_BREAK.split(text.strip())
    return parts[0::2], parts[1::2]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a text, without the whitespace around them."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for match in _SENTENCE_END.finditer(text, line.start(), line.end()):
            word = _WORD_BEFORE.search(text, start, match.start())
            single_dot = match.group().rstrip() == "."
            if single_dot and word and (len(word[1]) == 1 or word[1].lower() in _ABBREVIATIONS):
                continue
            _add_span(spans, text, start, match.end())
            start = match.end()
        _add_span(spans, text, start, line.end())
    return spans


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    """Append text[start:end] trimmed of whitespace, unless nothing is left."""
    piece = text[start:end]
    kept = piece.strip()
    if kept:
        begin = start + len(piece) - len(piece.lstrip())
        spans.append((begin, begin + len(kept)))


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, each with its inner runs of whitespace made single spaces."""
    return [" ".join(text[start:end].split()) for start, end in sentence_spans(text)]


def sentence_containing(text: str, start: int, end: int) -> str:
    """The whole sentence (or run of sentences) of the text that holds characters start..end."""
    spans = sentence_spans(text)
    begin = next((first for first, last in spans if last > start), start)
    finish = next((last for _, last in spans if last >= end), end)
    return text[min(begin, start) : max(finish, end)].strip()


def pack_sentences(
    sentences: list[str], count: Callable[[str], int], budget: int, level: int = 0
) -> list[str]:
    """Greedily join consecutive sentences into pieces of at most ``budget`` tokens."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for sentence in sentences:
        n = count(sentence)
        if current and (used + n > budget or n > budget):
            pieces.append(" ".join(current))
            current, used = [], 0
        if n > budget:
            pieces.extend(_split_long(sentence, count, budget, level))
            continue
        current.append(sentence)
        used += n
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_long(text: str, count: Callable[[str], int], budget: int, level: int) -> list[str]:
    """Break a text that alone exceeds the budget: at commas, then spaces, then characters."""
    for depth in range(level, len(_BREAKS)):
        parts = [p for p in _BREAKS[depth].split(text) if p]
        if len(parts) > 1:
            return pack_sentences(parts, count, budget, depth + 1)
    size = max(1, budget)
    while size > 1 and count(text[:size]) > budget:
        size //= 2
    return [text[i : i + size] for i in range(0, len(text), size)]


def pack_token_windows(pieces: list[list[int]], budget: int) -> list[list[int]]:
    """Greedily join token pieces into windows of at most ``budget`` ids, cutting oversize ones.

    Unlike ``pack_sentences`` this keeps every token id exactly, for tasks that read all of them.
    """
    windows: list[list[int]] = []
    current: list[int] = []
    for piece in pieces:
        if len(current) + len(piece) > budget and current:
            windows.append(current)
            current = []
        while len(piece) > budget:
            windows.append(piece[:budget])
            piece = piece[budget:]
        current = current + piece
    if current or not windows:
        windows.append(current)
    return windows


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """Tokens of a text without special tokens (the same sentence is often counted twice)."""
    cache: dict[str, int] = {}

    def count(text: str) -> int:
        if text not in cache:
            ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
            cache[text] = len(ids)
        return cache[text]

    return count
