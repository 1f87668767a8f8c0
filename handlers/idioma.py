"""/idioma: the text's language in Spanish, how sure, and the runners-up."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Classification
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, percent, target_text, usage

RUNNERS_UP = 3
MIN_RUNNER_UP_SCORE = 0.01
"""Below 1 % a runner-up is noise, not a possibility worth naming."""
FEW_WORDS = 4
"""Below this many words no detector is reliable: the answer says so."""


async def handle(request: Request, services: Services) -> Reply:
    """Identifies the language with the model (langdetect is only for /traducir's guess)."""
    if problem := document_problem(request, services.settings):
        return problem
    text = target_text(request)
    if not text:
        return usage("idioma")
    if not any(ch.isalpha() for ch in text):  # emoji, digits: no word to tell a language by
        return Reply.text(texts.LANGUAGE_UNKNOWN)
    [result] = await services.engine.run("language", [text])
    return language_reply(result, short=len(text.split()) < FEW_WORDS)


def language_name(code: str) -> str:
    """A language code's Spanish name, escaped (the code itself when we have no name)."""
    return escape(texts.LANGUAGE_NAMES.get(code.lower(), code))


def language_reply(result: Classification, short: bool = False) -> Reply:
    """The best language with its percentage, up to three likely others, and a word of caution
    when the text is too short to be sure."""
    best = result.best
    if best.label == "und":
        return Reply.text(texts.LANGUAGE_UNKNOWN)
    name = language_name(best.label)
    lines = [texts.LANGUAGE_TITLE.format(name=name, percent=percent(best.score))]
    others = [
        f"{language_name(item.label)} ({percent(item.score)})"
        for item in result.labels[1 : RUNNERS_UP + 1]
        if item.score >= MIN_RUNNER_UP_SCORE
    ]
    if others:
        lines.append(texts.LANGUAGE_RUNNERS_UP.format(others=", ".join(others)))
    if short:
        lines += ["", texts.LANGUAGE_TOO_SHORT]
    if result.truncated:
        lines += ["", texts.TRUNCATED_NOTE]
    return Reply.text("\n".join(lines))
