"""RedisStore's own faults and what AOF promises: Redis gone, Redis killed, a bot killed.

The contract every store keeps is in tests/test_store.py. These tests start a redis-server of
their own where they kill it; without redis-server they skip, saying why.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

import handlers
from bot import texts
from bot.config import Settings
from bot.engine import Engine
from bot.request import Request
from bot.services import Services
from bot.store import StoreError
from bot.store_redis import TIMEOUT_S, RedisStore
from tests.redis_server import RedisServer, free_port
from tests.test_cli import bot_env, plain

ANA = 7
HERE = 100


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may kill and start again."""
    with RedisServer.running(tmp_path / "redis") as server:
        yield server


def every_call(store: RedisStore) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "set_context": lambda: store.set_context(HERE, "x"),
        "get_context": lambda: store.get_context(HERE),
        "start_questions": lambda: store.start_questions(HERE, ANA),
        "in_questions": lambda: store.in_questions(HERE, ANA, 60),
        "touch_questions": lambda: store.touch_questions(HERE, ANA),
        "end_questions": lambda: store.end_questions(HERE, ANA),
        "save_text": lambda: store.save_text(HERE, "x"),
        "get_text": lambda: store.get_text(HERE, 1),
        "forget_chat": lambda: store.forget_chat(HERE),
        "purge": lambda: store.purge(30),
        "set_group_option": lambda: store.set_group_option(HERE, "memory", True),
        "group_options": lambda: store.group_options(HERE),
        "remember_message": lambda: store.remember_message(HERE, "Ana", "x", 200, 60),
        "recent_messages": lambda: store.recent_messages(HERE, 50, 60),
        "forget_messages": lambda: store.forget_messages(HERE),
        "purge_messages": lambda: store.purge_messages(60),
    }


# Redis gone


async def test_every_call_is_a_store_error_while_redis_is_gone_and_works_once_it_is_back(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = await RedisStore.open(own_redis.url)
    await store.set_context(HERE, "Antes de la caída.")
    own_redis.kill()
    try:
        for name, call in every_call(store).items():
            caplog.clear()
            started = time.monotonic()
            with (
                caplog.at_level(logging.ERROR, logger="bot.store_redis"),
                pytest.raises(StoreError),
            ):
                await call()
            assert time.monotonic() - started < TIMEOUT_S, name
            assert any(own_redis.url in r.getMessage() for r in caplog.records), name
        own_redis.start()  # the same folder: AOF brings the data back
        assert await store.get_context(HERE) == "Antes de la caída."
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("request_", "rate_limit"),
    [
        (Request(chat_id=HERE, user_id=ANA, command="olvidar"), 0),
        (Request(chat_id=HERE, user_id=ANA, command="fin"), 0),
        (Request(chat_id=HERE, user_id=ANA, text="Un texto para los botones."), 0),
        (Request(chat_id=HERE, user_id=ANA, command="ayuda"), 20),  # counted in Redis
        (Request(chat_id=999, user_id=ANA, command="ayuda"), 0),  # its refusal is in Redis
    ],
    ids=["olvidar", "fin", "plain text", "rate limit", "stranger"],
)
async def test_redis_gone_reaches_the_user_as_the_store_apology(
    request_: Request,
    rate_limit: int,
    make_settings: Callable[..., Settings],
    own_redis: RedisServer,
) -> None:
    """The store, the rate limit and the refusals all fail as StoreError: ERROR_STORE."""
    settings = make_settings(rate_limit_per_minute=rate_limit, allowed_chats=[HERE])
    store = await RedisStore.open(own_redis.url)
    engine = Engine(settings)
    services = Services(settings=settings, engine=engine, store=store)
    own_redis.kill()
    try:
        reply = await handlers.dispatch(request_, services)
    finally:
        await engine.close()
        await store.close()
    assert reply.parts == [texts.ERROR_STORE]


async def test_opening_an_unreachable_or_wrong_url_is_a_store_error() -> None:
    started = time.monotonic()
    with pytest.raises(StoreError):
        await RedisStore.open(f"redis://127.0.0.1:{free_port()}/0")
    assert time.monotonic() - started < TIMEOUT_S
    with pytest.raises(StoreError, match="REDIS_URL"):
        await RedisStore.open("http://127.0.0.1/")


async def test_a_password_in_the_url_stays_out_of_errors() -> None:
    with pytest.raises(StoreError) as raised:
        await RedisStore.open(f"redis://bot:s3cr3t-word@127.0.0.1:{free_port()}/0")
    assert "s3cr3t-word" not in str(raised.value)
    assert "bot:***@127.0.0.1" in str(raised.value)


# Persistence


async def test_acknowledged_writes_survive_a_sigkill_of_redis(own_redis: RedisServer) -> None:
    """AOF on, as documented: what Redis acknowledged is in the file before the kill."""
    store = await RedisStore.open(own_redis.url)
    chats = range(1, 201)
    await asyncio.gather(*(store.set_context(chat, f"Lectura {chat}.") for chat in chats))
    await asyncio.gather(*(store.start_questions(chat, ANA) for chat in chats))
    ids = await asyncio.gather(*(store.save_text(chat, f"Botón {chat}.") for chat in chats))
    own_redis.kill()
    await store.close()

    own_redis.start()
    again = await RedisStore.open(own_redis.url)
    try:
        assert [await again.get_context(chat) for chat in chats] == [
            f"Lectura {chat}." for chat in chats
        ]
        assert all([await again.in_questions(chat, ANA, 60) for chat in chats])
        assert [await again.get_text(chat, i) for chat, i in zip(chats, ids, strict=True)] == [
            f"Botón {chat}." for chat in chats
        ]
        assert await again.save_text(HERE, "Nuevo.") > max(ids)  # no id is handed out twice
    finally:
        await again.close()


async def test_a_redis_without_aof_is_named_in_a_warning(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = await RedisStore.open(own_redis.url)
    await store.client.config_set("appendonly", "no")
    await store.close()
    with caplog.at_level(logging.WARNING, logger="bot.store_redis"):
        await (await RedisStore.open(own_redis.url)).close()
    assert any("--appendonly yes" in r.getMessage() for r in caplog.records)


# A bot process killed


async def start_console(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`python -m bot console` reading a pipe; its logs go to a file, so no pipe fills up."""
    with (cwd / "bot.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "console",
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )


async def say(bot: asyncio.subprocess.Process, line: str, expected: str) -> str:
    """Types `line` and reads until the reply shows `expected`: the bot has acknowledged it."""
    assert bot.stdin is not None and bot.stdout is not None
    bot.stdin.write(f"{line}\n".encode())
    await bot.stdin.drain()
    seen = ""
    while expected not in seen:
        chunk = await asyncio.wait_for(bot.stdout.readline(), timeout=120)
        assert chunk, f"the bot exited before answering {line!r}; it printed:\n{seen}"
        seen += chunk.decode()
    return seen


async def test_a_bot_killed_after_answering_loses_nothing_it_acknowledged(
    tiny_models: dict[str, Path], redis_url: str, tmp_path: Path
) -> None:
    """A reading text and question mode set in one bot process answer a question in another.

    The other process starts alongside (two starts overlap: half the wait) and reads nothing
    before the kill, so what it answers from can only have come from Redis.
    """
    first_data, second_data = tmp_path / "first", tmp_path / "second"
    first = await start_console(bot_env(tiny_models, first_data, REDIS_URL=redis_url), tmp_path)
    second = await start_console(bot_env(tiny_models, second_data, REDIS_URL=redis_url), tmp_path)
    try:
        await say(
            first,
            "/contexto El Quijote fue escrito por Miguel de Cervantes. Se publicó en 1605.",
            plain(texts.CONTEXT_SET),
        )
        await say(first, "/pregunta", plain(texts.QUESTIONS_STARTED))
    finally:
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL

    try:
        answer = await say(second, "¿Quién escribió el Quijote?", plain(texts.ANSWER_CONFIDENCE))
        assert plain(texts.NO_CONTEXT) not in answer
    finally:
        assert second.stdin is not None
        second.stdin.close()
        assert await asyncio.wait_for(second.wait(), timeout=60) == 0
    # Nothing went to a SQLite file: the state was in Redis only.
    assert not list(first_data.glob("*.sqlite3")) and not list(second_data.glob("*.sqlite3"))
