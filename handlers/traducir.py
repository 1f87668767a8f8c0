"""/traducir: Spanish ⇄ English, the direction read from the text's language or forced."""

from __future__ import annotations

import dataclasses
import re

from bot import texts
from bot.engine.results import Classification, Translation
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, target_text, usage
from handlers.idioma import language_name

# "/traducir en: ..." translates into English, "/traducir es: ..." into Spanish.
FORCED_TARGET = re.compile(r"^\s*(en|es)\s*:\s*", re.IGNORECASE)
TASK_INTO = {"en": "translate_es_en", "es": "translate_en_es"}
TASK_FROM = {"es": "translate_es_en", "en": "translate_en_es"}
RUNNER_UP_SCORE = 0.2
"""langdetect wavers on short texts ("Hola amigo" may come out Italian first): a Spanish or
English guess this likely still decides the direction."""


async def handle(request: Request, services: Services) -> Reply:
    """Translates the text in the direction asked for, or the one its language implies."""
    if problem := document_problem(request, services.settings):
        return problem
    forced, text = split_forced_target(request)
    if not text:
        return usage("traducir")
    if forced:
        return await translate(text, TASK_INTO[forced], services)
    guesses = await guess_language(text, services)
    task = task_for(guesses)
    if task is None:
        return cannot_translate(guesses)
    return await translate(text, task, services)


def split_forced_target(request: Request) -> tuple[str | None, str]:
    """The target language the user forced ("en"/"es", or None) and the text to translate."""
    match = FORCED_TARGET.match(request.text)
    if match is None:
        return None, target_text(request)
    rest = request.text[match.end() :].strip()
    if not rest:  # "/traducir en:" replying to a message translates that message
        rest = target_text(dataclasses.replace(request, text=""))
    return match.group(1).lower(), rest


async def guess_language(text: str, services: Services) -> Classification:
    """langdetect's quick guess: enough to choose between Spanish and English."""
    [guesses] = await services.engine.run("language", [text], fast=True)
    result: Classification = guesses
    return result


def task_for(guesses: Classification) -> str | None:
    """The translation task for the guessed language; None when it is neither es nor en."""
    if guesses.best.label in TASK_FROM:
        return TASK_FROM[guesses.best.label]
    for guess in guesses.labels[1:]:
        if guess.label in TASK_FROM and guess.score >= RUNNER_UP_SCORE:
            return TASK_FROM[guess.label]
    return None


def cannot_translate(guesses: Classification) -> Reply:
    """Names the language we do not translate from, or says we could not tell it."""
    best = guesses.best
    if best.label == "und":
        return Reply.text(texts.TRANSLATE_UNKNOWN_LANGUAGE)
    return Reply.text(texts.TRANSLATE_UNSUPPORTED.format(language=language_name(best.label)))


async def translate(text: str, task: str, services: Services) -> Reply:
    """Runs the translation model and words its result."""
    [result] = await services.engine.run(task, [text])
    return translation_reply(result)


def translation_reply(result: Translation) -> Reply:
    """The translation under a small "from → to" line, and a note if it was cut."""
    if not result.text.strip():
        return Reply.text(texts.TRANSLATION_EMPTY)
    pair = texts.LANGUAGE_PAIR.format(
        source=language_name(result.source), target=language_name(result.target)
    )
    lines = [pair, escape(result.text.strip())]
    if result.truncated:
        lines += ["", texts.TRANSLATION_TRUNCATED]
    return Reply.text("\n".join(lines))
