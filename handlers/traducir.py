"""/traducir: Spanish ⇄ English, the direction read from the text's language or forced."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from bot import texts
from bot.engine.errors import EngineError
from bot.engine.results import Classification, Translation
from bot.engine.spanish_english import EsEn, guess_spanish_or_english
from bot.formatting import escape
from bot.progress import growing
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, read_link, target_text, titled, usage
from handlers.idioma import language_name

# "/traducir en: ..." translates into English, "/traducir es: ..." into Spanish.
FORCED_TARGET = re.compile(r"^\s*(en|es)\s*:\s*", re.IGNORECASE)
TASK_INTO = {"en": "translate_es_en", "es": "translate_en_es"}
TASK_FROM = {"es": "translate_es_en", "en": "translate_en_es"}
LONG_ENOUGH_WORDS = 6
"""From this many words on, langdetect is reliable enough to say a text is in a third language."""
OTHER_LANGUAGE_SCORE = 0.9
"""How sure langdetect must be of a third language before we refuse to translate."""


async def handle(request: Request, services: Services) -> Reply:
    """Translates the text in the direction asked for, or the one its language implies."""
    if problem := document_problem(request, services.settings):
        return problem
    forced, text = split_forced_target(request)
    if not text:
        return usage("traducir")
    target = await read_link(text, services)  # a lone link is translated as its page
    if target.problem:
        return target.problem
    if forced:
        return titled(await translate(target.text, TASK_INTO[forced], services), target)
    source, other = await decide_source(target.text, services)
    if source is None:
        return titled(cannot_translate(other), target)
    return titled(await translate(target.text, TASK_FROM[source], services), target)


def split_forced_target(request: Request) -> tuple[str | None, str]:
    """The target language the user forced ("en"/"es", or None) and the text to translate."""
    match = FORCED_TARGET.match(request.text)
    if match is None:
        return None, target_text(request)
    rest = request.text[match.end() :].strip()
    if not rest:  # "/traducir en:" replying to a message translates that message
        rest = target_text(dataclasses.replace(request, text=""))
    return match.group(1).lower(), rest


async def decide_source(text: str, services: Services) -> tuple[EsEn | None, Classification]:
    """Spanish or English, from the words first; the language model settles the rest.

    Returns the source language, or None with the guesses that name the third language.
    """
    guess = guess_spanish_or_english(text)
    fast = await quick_guesses(text, services)
    if fast.best.label == "und":  # no letters at all: nothing tells a language
        return None, fast
    third = fast.best.label not in TASK_FROM and fast.best.score >= OTHER_LANGUAGE_SCORE
    if third and (len(text.split()) >= LONG_ENOUGH_WORDS or not mostly_latin(text)):
        return None, fast
    if guess.sure and guess.language is not None:
        return guess.language, fast
    model = await model_guesses(text, services)
    scores = {item.label: item.score for item in (model or fast).labels}
    spanish, english = scores.get("es", 0.0), scores.get("en", 0.0)
    if spanish != english:
        return ("es" if spanish > english else "en"), fast
    return guess.language or "es", fast


def mostly_latin(text: str) -> bool:
    """Whether most letters are Latin: Arabic or Cyrillic script is no Spanish, however short."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum("LATIN" in unicodedata.name(ch, "") for ch in letters)
    return latin * 2 >= len(letters)


async def quick_guesses(text: str, services: Services) -> Classification:
    """langdetect's guesses: no model, reliable on sentences, not on a word or two."""
    [guesses] = await services.engine.run("language", [text], fast=True)
    result: Classification = guesses
    return result


async def model_guesses(text: str, services: Services) -> Classification | None:
    """The language model's scores, or None when it cannot run now (the quick guess stands)."""
    try:
        [guesses] = await services.engine.run("language", [text])
    except EngineError:
        return None
    result: Classification = guesses
    return result


def cannot_translate(guesses: Classification) -> Reply:
    """Names the language we do not translate from, or says we could not tell it."""
    best = guesses.best
    if best.label == "und":
        return Reply.text(texts.TRANSLATE_UNKNOWN_LANGUAGE)
    return Reply.text(texts.TRANSLATE_UNSUPPORTED.format(language=language_name(best.label)))


async def translate(text: str, task: str, services: Services) -> Reply:
    """Runs the translation model and words its result."""
    with growing(growing_translation):
        [result] = await services.engine.run(task, [text])
    return translation_reply(result)


def growing_translation(partial: Translation) -> str:
    """A long text's translation so far (the engine adds it piece by piece), as the reply."""
    return translation_reply(partial).parts[0] if partial.text.strip() else ""


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
