"""Inline mode (`@Bot texto` in any chat): the commands' own replies, offered as ready messages.

Transport-free: a query's text in, plain result data out (bot/telegram_inline.py sends it).
Each result's message is exactly what its command replies, because the command's own handler
writes it. Telegram waits only seconds for an answer, so what is not ready within the budget is
replaced by a "still working" result; the work goes on, and a retry finds the model loaded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from dataclasses import dataclass

from bot import texts
from bot.engine.errors import EngineError
from bot.formatting import html_to_plain, split_for_telegram
from bot.request import Reply, Request
from bot.services import Services
from handlers import reply_for_engine_error
from handlers.arguments import visible
from handlers.commands import handler_for

log = logging.getLogger(__name__)

ANSWER_WITHIN_S = 6.0
"""Telegram drops an inline answer that comes ~10 s after the query; leave room to send it."""
MAX_QUERY_CHARS = 256
"""Telegram's own limit on an inline query's text: a longer one cannot have come whole."""
COMMANDS = ("traducir", "sentimiento", "idioma")
SUMMARY_FROM_WORDS = 30
"""From this many words on, a summary is offered too (/resumir's reply)."""
DESCRIPTION_CHARS = 100
# Work still running after its answer was sent: kept referenced until it ends.
_still_running: set[asyncio.Task[tuple[Reply, bool]]] = set()


@dataclass(frozen=True)
class InlineResult:
    """One offered message: a unique id, what the list shows, and the Telegram-HTML message."""

    id: str
    title: str
    description: str
    message: str


@dataclass(frozen=True)
class InlineAnswer:
    results: list[InlineResult]
    cache_seconds: int
    """How long Telegram may show these results again for the same query (0: ask again)."""


async def answer_inline(
    query: str, user_id: int, services: Services, within_s: float = ANSWER_WITHIN_S
) -> InlineAnswer:
    """The results for one inline query; never raises."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        answer = await _answer(query, user_id, services, within_s)
        if answer.cache_seconds == 0:
            outcome = "partial"
        return answer
    except Exception:
        outcome = "error"
        log.exception("inline query of user %s failed", user_id)
        return InlineAnswer([_notice("error", texts.INLINE_ERROR_TITLE, texts.INLINE_ERROR)], 0)
    finally:
        fields = {
            "chat_kind": "inline",
            "command": "inline",
            "total_ms": round((time.perf_counter() - started) * 1000, 1),
            "outcome": outcome,
        }
        log.info("request", extra={"fields": fields})


async def _answer(query: str, user_id: int, services: Services, within_s: float) -> InlineAnswer:
    text = visible(query)
    cache = services.settings.inline_cache_seconds
    if not text:
        help_text = texts.INLINE_HELP.format(bot=services.bot_username or "Bot")
        return InlineAnswer([_notice("help", texts.INLINE_HELP_TITLE, help_text)], cache)
    limit = min(MAX_QUERY_CHARS, services.settings.max_input_chars)
    if len(text) > limit:
        too_long = texts.INLINE_TOO_LONG.format(limit=limit, bot=services.bot_username or "Bot")
        return InlineAnswer([_notice("long", texts.INLINE_TOO_LONG_TITLE, too_long)], cache)
    if (refusal := await _refusal(user_id, services)) is not None:
        return InlineAnswer([_notice("refused", texts.INLINE_REFUSED_TITLE, refusal)], 0)
    names = list(COMMANDS)
    if len(text.split()) >= SUMMARY_FROM_WORDS:
        names.append("resumir")
    request = Request(chat_id=user_id, user_id=user_id, chat_kind="private", text=text)
    work = {name: asyncio.create_task(_reply_of(name, request, services)) for name in names}
    await asyncio.wait(work.values(), timeout=within_s)
    results: list[InlineResult] = []
    errors: list[Reply] = []
    for name, task in work.items():
        if not task.done():
            _still_running.add(task)
            task.add_done_callback(_forget)
            continue
        reply, answered = task.result()
        if answered:
            results.append(_result(name, text, reply))
        else:
            errors.append(reply)
    unfinished = len(results) + len(errors) < len(work)
    if unfinished:
        results.append(_notice("working", texts.INLINE_WORKING_TITLE, texts.INLINE_WORKING))
    elif not results and errors:
        message = "\n\n".join(errors[0].parts)
        results.append(_notice("failed", texts.INLINE_ERROR_TITLE, message))
    return InlineAnswer(results, 0 if unfinished or errors else cache)


async def _reply_of(name: str, request: Request, services: Services) -> tuple[Reply, bool]:
    """The command's own reply to the text, as /name text gives it; False with the words of an
    error (offered only when no command could answer)."""
    handler = handler_for(name)
    assert handler is not None, name
    try:
        return await handler(dataclasses.replace(request, command=name), services), True
    except EngineError as exc:
        return reply_for_engine_error(exc), False
    except Exception:
        log.exception("inline %s failed", name)
        return Reply.text(texts.INLINE_ERROR), False


def _forget(task: asyncio.Task[tuple[Reply, bool]]) -> None:
    _still_running.discard(task)


async def _refusal(user_id: int, services: Services) -> str | None:
    """ALLOWED_CHATS (the user's own chat must be served) and the per-user rate limit."""
    if not services.allow_list.allows(user_id):
        return texts.NOT_ALLOWED
    wait = await services.rate_limiter.wait_seconds(user_id)
    if wait:
        return texts.RATE_LIMITED.format(seconds=texts.SECONDS.count(max(1, round(wait))))
    return None


def _result(name: str, text: str, reply: Reply) -> InlineResult:
    """A command's reply as one offered message, titled with its button's label."""
    message = split_for_telegram("\n\n".join(reply.parts))[0]
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]
    return InlineResult(
        id=f"{name}-{digest}",
        title=texts.COMMAND_TEXTS[name].button or name,
        description=_preview(message),
        message=message,
    )


def _notice(kind: str, title: str, message: str) -> InlineResult:
    """A result that explains rather than answers (help, too long, still working)."""
    return InlineResult(id=kind, title=title, description=_preview(message), message=message)


def _preview(message: str) -> str:
    """The message's text on one short line, for the list of results."""
    line = " · ".join(part.strip() for part in html_to_plain(message).splitlines() if part.strip())
    if len(line) <= DESCRIPTION_CHARS:
        return line
    return line[: DESCRIPTION_CHARS - 1].rstrip() + "…"
