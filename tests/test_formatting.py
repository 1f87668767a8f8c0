"""Splitting long replies for Telegram: under the limit, at natural breaks, markup intact."""

from __future__ import annotations

from bot.formatting import escape, html_to_plain, split_for_telegram
from tests.e2e.telegram_html import parse_html


def test_short_text_is_one_part() -> None:
    assert split_for_telegram("<b>hola</b>") == ["<b>hola</b>"]


def test_long_text_splits_at_paragraphs_under_the_limit() -> None:
    paragraphs = [f"Párrafo {i}. " + "palabra " * 120 for i in range(40)]
    text = "\n\n".join(paragraphs)
    parts = split_for_telegram(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("Párrafo") for p in parts)  # each cut fell between paragraphs
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_cuts_inside_tags_reopen_them_and_never_split_entities() -> None:
    body = escape("a < b & c > d. " * 800)
    text = f"<b>Título</b>\n<blockquote>{body}</blockquote>"
    parts = split_for_telegram(text)
    assert len(parts) >= 3
    for part in parts:
        assert len(part) <= 4096
        parse_html(part)  # balanced tags, whole entities
    visible = "".join(html_to_plain(p) for p in parts)
    assert visible.count("&") == 800 and visible.count("<") == 800


def test_a_text_without_any_break_is_still_cut() -> None:
    parts = split_for_telegram("x" * 10_000)
    assert [len(p) for p in parts][:2] and all(len(p) <= 4096 for p in parts)
    assert "".join(parts) == "x" * 10_000
