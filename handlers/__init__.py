"""Command handlers: one module per command, each `Request -> Reply` through the services.

Which module answers which command is the table in `handlers/commands.py`. `dispatch` is the
single entry point the adapters call; it routes the request and turns every failure into a
Spanish message, so an error in one chat never reaches the transport.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from bot import texts
from bot.engine import (
    EngineBusy,
    EngineClosed,
    EngineError,
    HubUnreachable,
    InferenceFailed,
    InputTooLong,
    InvalidInput,
    ModelUnavailable,
    NoMemoryForModel,
    last_timings,
    reset_timings,
)
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from bot.store import StoreError
from handlers.commands import handler_for

log = logging.getLogger(__name__)


async def dispatch(request: Request, services: Services) -> Reply:
    """Answer any request; never raises. Logs one line per request."""
    started = time.perf_counter()
    outcome = "ok"
    reset_timings()
    try:
        return await _route(request, services)
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except EngineError as exc:
        outcome = type(exc).__name__
        return reply_for_engine_error(exc)
    except StoreError:
        outcome = "StoreError"
        log.exception("store failure in chat %s", request.chat_id)
        return Reply.text(texts.ERROR_STORE)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        outcome = f"error {error_id}"
        log.exception(
            "unexpected error %s in chat %s (command %s)",
            error_id,
            request.chat_id,
            request.command or request.action or "text",
        )
        return Reply.text(texts.ERROR_UNEXPECTED.format(error_id=error_id))
    finally:
        _log_request(request, outcome, time.perf_counter() - started)


def _log_request(request: Request, outcome: str, seconds: float) -> None:
    """The per-request line: what ran, where the time went, how it ended."""
    timings = last_timings()
    fields = {
        "chat_kind": request.chat_kind,
        "command": request.command or ("button" if request.action is not None else "text"),
        "task": timings.task if timings else "-",
        "model": timings.model if timings else "-",
        "queue_wait_ms": round(timings.queue_wait_s * 1000, 1) if timings else 0.0,
        "inference_ms": round(timings.inference_s * 1000, 1) if timings else 0.0,
        "total_ms": round(seconds * 1000, 1),
        "outcome": outcome,
    }
    log.info("request", extra={"fields": fields})


async def _gate(request: Request, services: Services) -> Reply | None:
    """ALLOWED_CHATS and the per-user rate limit; a Reply here means nothing runs."""
    if request.operator:
        return None  # the console is its operator's own chat
    if not services.allow_list.allows(request.chat_id):
        refuse = await services.allow_list.first_refusal(request.chat_id)
        return Reply.text(texts.NOT_ALLOWED) if refuse else Reply()
    addressed = request.command is not None or request.action is not None
    if not addressed and not (request.is_private or request.replies_to_bot):
        return None  # group chatter: the plain-text handler decides, nothing to count
    wait = await services.rate_limiter.wait_seconds(request.user_id)
    if not wait:
        return None
    if await services.rate_limiter.should_warn(request.user_id):
        seconds = texts.SECONDS.count(max(1, round(wait)))
        return Reply.text(texts.RATE_LIMITED.format(seconds=seconds))
    return Reply()


async def _route(request: Request, services: Services) -> Reply:
    if (refusal := await _gate(request, services)) is not None:
        return refusal
    if request.action is not None:
        from handlers import acciones

        return await acciones.handle(request, services)
    if request.command is None:
        from handlers import texto

        return await texto.handle(request, services)
    handler = handler_for(request.command)
    if handler is None:
        return Reply.text(texts.UNKNOWN_COMMAND)
    return await handler(request, services)


def reply_for_engine_error(exc: EngineError) -> Reply:
    """Specific Spanish words for each kind of engine error."""
    if isinstance(exc, HubUnreachable):
        task = texts.TASK_NAMES.get(exc.task, exc.task)
        return Reply.text(
            texts.ERROR_HUB_UNREACHABLE.format(
                task=task, model=escape(exc.model_id), setting=exc.setting
            )
        )
    if isinstance(exc, ModelUnavailable):
        task = texts.TASK_NAMES.get(exc.task, exc.task)
        return Reply.text(
            texts.ERROR_MODEL_UNAVAILABLE.format(task=task, model=escape(exc.model_id))
        )
    if isinstance(exc, EngineClosed):
        return Reply.text(texts.ERROR_RESTARTING)
    if isinstance(exc, NoMemoryForModel):
        return Reply.text(
            texts.ERROR_NO_MEMORY.format(task=texts.TASK_NAMES.get(exc.task, exc.task))
        )
    if isinstance(exc, EngineBusy):  # QueueFull and any other "try again in a moment"
        return Reply.text(texts.ERROR_BUSY)
    if isinstance(exc, InputTooLong):
        return Reply.text(texts.ERROR_TOO_LONG.format(length=exc.length, limit=exc.limit))
    if isinstance(exc, InvalidInput):
        log.info("invalid input: %s", exc)
        return Reply.text(texts.ERROR_INVALID)
    if isinstance(exc, InferenceFailed):
        return Reply.text(
            texts.ERROR_INFERENCE.format(task=texts.TASK_NAMES.get(exc.task, exc.task))
        )
    error_id = uuid.uuid4().hex[:8]
    log.error("engine error %s: %s", error_id, exc)
    return Reply.text(texts.ERROR_UNEXPECTED.format(error_id=error_id))
