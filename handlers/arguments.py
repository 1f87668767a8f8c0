"""Reading what a request is about, and writing the scores of an answer, shared by commands."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from bot import texts
from bot.formatting import escape
from bot.request import Reply, Request

if TYPE_CHECKING:
    from bot.config import Settings

BAR_CELLS = 10


_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cn", "Co", "Cs"})


def visible(text: str | None) -> str:
    """The text stripped, or "" when nothing in it can be seen (zero-width, controls)."""
    if not text:
        return ""
    if all(unicodedata.category(char) in _INVISIBLE for char in text):
        return ""
    return text.strip()


def target_text(request: Request) -> str:
    """The text a command works on: its argument, else the replied message, else a document."""
    for candidate in (request.text, request.reply_text, request.document_text):
        if text := visible(candidate):
            return text
    return ""


def usage(command: str) -> Reply:
    """The usage message a command answers with when it gets no text."""
    written = texts.COMMAND_TEXTS[command]
    form, example = written.usage or f"/{command}", written.example or f"/{command}"
    return Reply.text(texts.USAGE.format(usage=escape(form), example=escape(example)))


def document_problem(request: Request, settings: Settings) -> Reply | None:
    """Why an attached document could not be read, when it was the only text on offer."""
    if not request.document_error or target_text(request):
        return None
    if request.document_error == "too_big":
        limit_kb = max(1, settings.max_document_bytes // 1024)
        return Reply.text(texts.ERROR_DOCUMENT_TOO_BIG.format(limit_kb=limit_kb))
    if request.document_error == "encoding":
        return Reply.text(texts.ERROR_DOCUMENT_ENCODING)
    return Reply.text(texts.ERROR_DOCUMENT_KIND)


def char_count(text: str) -> str:
    """ "1 carácter", "77 caracteres"."""
    return texts.CHARACTERS.count(len(text))


def word_count(text: str) -> str:
    """ "1 palabra", "14 palabras": counted for the user, so the noun agrees."""
    return texts.WORDS.count(len(text.split()))


def percent(score: float) -> str:
    """A probability as a Spanish percentage: "87 %", "3,5 %"."""
    value = max(0.0, min(1.0, score)) * 100
    shown = f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}".replace(".", ",")
    return texts.PERCENT.format(value=shown)


def score_bar(score: float) -> str:
    """A ten-cell bar that reads at a glance on a phone: ███░░░░░░░."""
    filled = round(max(0.0, min(1.0, score)) * BAR_CELLS)
    return "█" * filled + "░" * (BAR_CELLS - filled)


def score_line(name: str, score: float) -> str:
    """One scored label: its bar, its percentage and its (already escaped) name."""
    return f"{score_bar(score)} {percent(score)} {name}"
