"""Reading what a request is about, and writing the scores of an answer, shared by commands."""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import TYPE_CHECKING

from bot import links, texts
from bot.formatting import escape
from bot.request import Reply, Request

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

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


DOCUMENT_PROBLEMS = {
    "encoding": texts.ERROR_DOCUMENT_ENCODING,
    "encrypted": texts.ERROR_DOCUMENT_ENCRYPTED,
    "scanned": texts.ERROR_DOCUMENT_SCANNED,
    "empty": texts.ERROR_DOCUMENT_EMPTY,
    "broken": texts.ERROR_DOCUMENT_BROKEN,
    "bomb": texts.ERROR_DOCUMENT_BOMB,
    "timeout": texts.ERROR_DOCUMENT_TIMEOUT,
}
"""What bot.documents' problem codes mean to the user; an unknown code reads as "not_text"."""


def document_problem(request: Request, settings: Settings) -> Reply | None:
    """Why an attached document could not be read, when it was the only text on offer."""
    if not request.document_error or target_text(request):
        return None
    if request.document_error == "too_big":
        limit_kb = max(1, settings.max_document_bytes // 1024)
        return Reply.text(texts.ERROR_DOCUMENT_TOO_BIG.format(limit_kb=limit_kb))
    return Reply.text(DOCUMENT_PROBLEMS.get(request.document_error, texts.ERROR_DOCUMENT_KIND))


@dataclasses.dataclass(frozen=True)
class Target:
    """The text a command works on, the title of the page it came from, or why there is none."""

    text: str
    title: str | None = None
    problem: Reply | None = None


async def read_target(request: Request, services: Services) -> Target:
    """target_text, with an unreadable document refused and a lone link read as its page."""
    if problem := document_problem(request, services.settings):
        return Target("", problem=problem)
    return await read_link(target_text(request), services)


async def read_link(text: str, services: Services) -> Target:
    """The text itself, or, when it is nothing but a link, that page's title and main text."""
    url = links.lone_url(text)
    if url is None:
        return Target(text)
    limits = links.LinkLimits(allow_private=services.settings.links_allow_private)
    try:
        page = await links.read_page(url, limits)
    except links.LinkError as exc:
        return Target("", problem=Reply.text(link_problem(exc, limits)))
    return Target(page.text, title=page.title)


def link_problem(error: links.LinkError, limits: links.LinkLimits) -> str:
    """A link's failure in Spanish, naming why."""
    detail = escape(error.detail[:200])
    match error.problem:
        case "scheme":
            return texts.ERROR_LINK_SCHEME
        case "address":
            return texts.ERROR_LINK_ADDRESS.format(host=detail)
        case "no_name":
            return texts.ERROR_LINK_NO_NAME.format(host=detail)
        case "timeout":
            return texts.ERROR_LINK_TIMEOUT.format(seconds=f"{limits.timeout_s:g}")
        case "too_big":
            return texts.ERROR_LINK_TOO_BIG.format(limit_kb=limits.max_bytes // 1024)
        case "kind":
            return texts.ERROR_LINK_KIND.format(kind=detail)
        case "http":
            return texts.ERROR_LINK_HTTP.format(status=detail)
        case "redirects":
            return texts.ERROR_LINK_REDIRECTS.format(limit=limits.max_redirects)
        case "no_text":
            return texts.ERROR_LINK_NO_TEXT
        case _:
            return texts.ERROR_LINK_UNREACHABLE.format(host=detail)


def titled(reply: Reply, target: Target) -> Reply:
    """The reply headed by the title of the page it is about, when it is about a page."""
    if target.title is None or not reply.parts:
        return reply
    head = texts.LINK_TITLE.format(title=escape(target.title[:200]))
    return dataclasses.replace(reply, parts=[f"{head}\n{reply.parts[0]}", *reply.parts[1:]])


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
