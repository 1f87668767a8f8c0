"""Telegram HTML: escaping user text, splitting long replies, falling back to plain text."""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")
_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


def escape(text: str) -> str:
    """User text made safe for parse_mode=HTML."""
    return html.escape(text, quote=False)


def html_to_plain(text: str) -> str:
    """The visible text of a Telegram-HTML string (for the plain fallback and the console)."""
    return html.unescape(_TAG.sub("", text))


def split_for_telegram(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at paragraph, line, sentence or word boundaries; tags open at a cut are reopened."""
    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, full opening tag)
    rest = text
    while rest:
        prefix = "".join(tag for _, tag in open_tags)
        budget = limit - len(prefix) - sum(len(f"</{n}>") for n, _ in open_tags) - 16
        if len(rest) <= budget:
            parts.append(prefix + rest)
            break
        cut = _cut_point(rest, budget)
        while True:
            piece = rest[:cut]
            chunk_tags = _track_tags(piece, list(open_tags))
            closing = "".join(f"</{name}>" for name, _ in reversed(chunk_tags))
            chunk = (prefix + piece).rstrip() + closing
            # Tags opened inside the piece need closing room the budget did not keep.
            if len(chunk) <= limit or cut <= 1:
                break
            cut = _cut_point(rest, cut - (len(chunk) - limit))
        rest = rest[cut:].lstrip()
        parts.append(chunk)
        open_tags = chunk_tags
    return [p for p in parts if html_to_plain(p).strip()] or [text[:limit]]


def _cut_point(text: str, budget: int) -> int:
    window = text[:budget]
    for sep in _BREAKS:
        at = window.rfind(sep)
        if at > budget // 3:
            at += len(sep)
            return _outside_markup(text, at)
    return _outside_markup(text, budget)


def _outside_markup(text: str, at: int) -> int:
    """Move a cut left so that it falls neither inside a tag nor inside an &entity;."""
    lt, gt = text.rfind("<", 0, at), text.rfind(">", 0, at)
    if lt > gt:
        at = lt
    amp = text.rfind("&", max(0, at - 10), at)
    if amp != -1 and ";" not in text[amp:at]:
        at = amp
    return max(at, 1)


def _track_tags(piece: str, stack: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for match in _TAG.finditer(piece):
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i]
                    break
        else:
            stack.append((name, match.group(0)))
    return stack
