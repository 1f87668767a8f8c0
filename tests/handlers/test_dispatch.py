"""Whatever goes wrong in a handler ends in a Spanish message, and the bot goes on."""

from __future__ import annotations

import logging
import re

import pytest

import handlers
from bot import texts
from bot.engine import EngineClosed, EngineError, NoMemoryForModel, QueueFull
from bot.request import Reply, Request
from bot.services import Services
from tests.handlers.conftest import Chat, plain


async def test_unexpected_error_gets_an_apology_with_an_id_that_is_in_the_log(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Request, services: Services) -> Reply:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(handlers, "handler_for", lambda command: broken)
    with caplog.at_level(logging.INFO):
        reply = await chat.command("sentimiento", "hola")
    match = re.search(r"código: (\w+)", plain(reply))
    assert match, plain(reply)
    error_id = match.group(1)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is ZeroDivisionError
    monkeypatch.undo()
    assert "/traducir" in plain(await chat.command("ayuda"))  # the next request is served


async def test_unknown_command_points_to_help(chat: Chat) -> None:
    assert plain(await chat.command("bailar", "ya")) == texts.UNKNOWN_COMMAND


async def test_every_request_logs_one_line(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="handlers"):
        await chat.command("sentimiento", "Me encanta")
    [line] = [r for r in caplog.records if r.getMessage() == "request"]
    fields = line.fields  # type: ignore[attr-defined]
    assert fields["command"] == "sentimiento" and fields["task"] == "sentiment"
    assert fields["outcome"] == "ok" and fields["inference_ms"] > 0
    assert {"chat_kind", "model", "queue_wait_ms", "total_ms"} <= set(fields)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (QueueFull("sentiment", 256), texts.ERROR_BUSY),
        (EngineClosed("sentiment"), texts.ERROR_RESTARTING),
        (
            NoMemoryForModel("sentiment", "tiny/sentiment", 300 * 2**20, 100 * 2**20),
            texts.ERROR_NO_MEMORY.format(task=texts.TASK_NAMES["sentiment"]),
        ),
    ],
)
async def test_each_reason_the_engine_cannot_take_a_request_has_its_own_words(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, error: EngineError, expected: str
) -> None:
    async def refused(request: Request, services: Services) -> Reply:
        raise error

    monkeypatch.setattr(handlers, "handler_for", lambda command: refused)
    reply = await chat.command("sentimiento", "hola")
    assert reply.parts == [expected]


async def test_a_request_after_the_engine_closed_is_told_the_bot_is_restarting(
    chat: Chat,
) -> None:
    await chat.services.engine.close()
    reply = await chat.command("sentimiento", "Me encanta")
    assert reply.parts == [texts.ERROR_RESTARTING]
