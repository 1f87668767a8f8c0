"""A group's plain messages: remembered where /memoria is on, translated where /autotraducir is.

Both run on group chatter, which nobody addressed to the bot, so a failure here is logged and
never said in the group. The switches both commands share (on/off, administrators only) live
here too.
"""

from __future__ import annotations

import logging

from bot import texts
from bot.engine.spanish_english import guess_spanish_or_english
from bot.request import Reply, Request
from bot.services import Services
from bot.store import GroupOption
from handlers.arguments import usage, visible
from handlers.traducir import OTHER_LANGUAGE_SCORE, quick_guesses, translation_reply

log = logging.getLogger(__name__)

AUTOTRANSLATE: GroupOption = "autotranslate"
MEMORY: GroupOption = "memory"
# Shorter texts ("ok", "lol", "jaja") are no conversation worth a translation.
MIN_WORDS = 3
MIN_CHARS = 12
# The most /resumen_chat reads, so the most a group's memory needs to keep.
MEMORY_KEEP = 200
# A longer message is remembered up to here: a summary needs its gist, not a pasted book.
MEMORY_MAX_CHARS = 1000

ON_WORDS = frozenset({"on", "sí", "si", "activar", "activa", "encender"})
OFF_WORDS = frozenset({"off", "no", "desactivar", "desactiva", "apagar"})


async def remember_if_on(request: Request, services: Services) -> None:
    """Keeps the message where the group's memory is on; a failure is only logged."""
    try:
        if MEMORY in await services.store.group_options(request.chat_id):
            await remember(request, services)
    except Exception:
        log.exception("could not remember a message in chat %s", request.chat_id)


async def translate_if_on(request: Request, services: Services) -> Reply:
    """The translation of an English message where autotranslation is on, else nothing.

    A failure is logged, not said: nobody asked, so an apology would only be noise.
    """
    try:
        if AUTOTRANSLATE in await services.store.group_options(request.chat_id):
            return await autotranslate(request, services)
    except Exception:
        log.exception("could not translate a message in chat %s", request.chat_id)
    return Reply()


async def remember(request: Request, services: Services) -> None:
    """Keeps the author and the text (a caption counts; a document's contents do not)."""
    text = visible(request.text)
    if not text or request.from_bot:
        return
    author = " ".join(request.author.split()) or str(request.user_id)
    await services.store.remember_message(
        request.chat_id,
        author,
        text[:MEMORY_MAX_CHARS],
        keep=MEMORY_KEEP,
        max_age=services.settings.group_memory_seconds,
    )


async def autotranslate(request: Request, services: Services) -> Reply:
    """English becomes a Spanish reply; anything else, or over the group's limit, gets none."""
    text = visible(request.text)
    if request.from_bot or request.document_text is not None or not long_enough(text):
        return Reply()
    if len(text) > services.settings.max_input_chars or not await written_in_english(
        text, services
    ):
        return Reply()
    if not await within_group_limit(request.chat_id, services):
        log.info("autotranslation limit reached in chat %s", request.chat_id)
        return Reply()
    [result] = await services.engine.run("translate_en_es", [text])
    if not result.text.strip():
        return Reply()  # an empty translation is no news for the group
    return translation_reply(result)


def long_enough(text: str) -> bool:
    return len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS


async def written_in_english(text: str, services: Services) -> bool:
    """English by its words, and not, by langdetect's sure word, some third language."""
    guess = guess_spanish_or_english(text)
    if not guess.sure or guess.language != "en":
        return False
    best = (await quick_guesses(text, services)).best
    return best.label == "en" or best.score < OTHER_LANGUAGE_SCORE


async def within_group_limit(chat_id: int, services: Services) -> bool:
    """AUTOTRANSLATE_PER_MINUTE per group, counted where the rate limits are (Redis if shared)."""
    per_minute = services.settings.autotranslate_per_minute
    if per_minute <= 0:
        return True
    memory = services.rate_limiter.memory
    return not await memory.hit(f"autotranslate:{chat_id}", memory.now(), per_minute, 60.0)


# The switches of /autotraducir and /memoria


def wanted_state(text: str) -> bool | None:
    """True for "on", False for "off" (and their Spanish words), None for anything else."""
    word = text.strip().lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    return None


async def may_switch(request: Request, services: Services) -> bool:
    """Only a group's administrators switch its options; the console's operator is one."""
    return request.operator or await services.members.is_admin(request.chat_id, request.user_id)


async def switch(
    request: Request, services: Services, option: GroupOption, status: str
) -> Reply | bool:
    """The steps both switches share: groups only, the state when asked (`status` with its
    {state}), usage for a stray word, administrators only. Returns the reply, or the new
    state once it is stored."""
    if request.is_private:
        return Reply.text(texts.GROUPS_ONLY)
    wanted = wanted_state(request.text)
    if wanted is None:
        if request.text.strip():
            return usage(request.command or "")
        options = await services.store.group_options(request.chat_id)
        return Reply.text(status.format(state=texts.SWITCH_STATES[option in options]))
    if not await may_switch(request, services):
        return Reply.text(texts.GROUP_ADMINS_ONLY)
    await services.store.set_group_option(request.chat_id, option, wanted)
    return wanted


def duration(seconds: float) -> str:
    """ "24 horas": how long a group's memory keeps a message."""
    return texts.HOURS.count(max(1, round(seconds / 3600)))
