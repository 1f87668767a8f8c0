"""SQLiteStore's own faults: failing loudly instead of losing data, and never freezing the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import handlers
from bot import texts
from bot.config import Settings
from bot.engine import Engine
from bot.request import Request
from bot.services import Services
from bot.store import SQLiteStore, StoreError

ANA, BEA = 7, 8
HERE, THERE = 100, -500


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tertulia.sqlite3"


def lock_exclusively(path: Path) -> sqlite3.Connection:
    """Another process's connection holding the write lock until it is closed."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_corrupt_file_is_refused_and_left_untouched(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = bytes(range(256)) * 40
    db_path.write_bytes(garbage)
    with caplog.at_level(logging.ERROR, logger="bot.store"), pytest.raises(StoreError):
        asyncio.run(SQLiteStore.open(db_path))
    assert db_path.read_bytes() == garbage  # never reset into an empty database
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert str(db_path) in line
    assert "not a database" in line
    assert "left as it is" in line


@pytest.fixture
def damaged_path(db_path: Path) -> Path:
    """A database whose first page is fine and whose tables are not."""

    async def fill() -> None:
        healthy = await SQLiteStore.open(db_path)
        for chat_id in range(40):
            await healthy.set_context(chat_id, f"Texto de lectura de {chat_id}.")
            await healthy.start_questions(chat_id, ANA)
            await healthy.save_text(chat_id, f"Texto de un botón de {chat_id}.")
        await healthy.close()

    asyncio.run(fill())
    data = bytearray(db_path.read_bytes())
    data[4096:] = bytes(b ^ 0x5A for b in data[4096:])
    db_path.write_bytes(bytes(data))
    return db_path


async def test_damage_found_later_is_a_store_error_for_every_call(
    damaged_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each call fails cleanly, none half-way."""
    damaged = await SQLiteStore.open(damaged_path)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "set_context": lambda: damaged.set_context(3, "x"),
        "get_context": lambda: damaged.get_context(3),
        "start_questions": lambda: damaged.start_questions(3, ANA),
        "in_questions": lambda: damaged.in_questions(3, ANA, 60),
        "touch_questions": lambda: damaged.touch_questions(3, ANA),
        "end_questions": lambda: damaged.end_questions(3, ANA),
        "save_text": lambda: damaged.save_text(3, "x"),
        "get_text": lambda: damaged.get_text(3, 1),
        "forget_chat": lambda: damaged.forget_chat(3),
        "purge": lambda: damaged.purge(30),
        "set_group_option": lambda: damaged.set_group_option(3, "memory", True),
        "group_options": lambda: damaged.group_options(3),
        "remember_message": lambda: damaged.remember_message(3, "Ana", "x", 200, 60),
        "recent_messages": lambda: damaged.recent_messages(3, 50, 60),
        "forget_messages": lambda: damaged.forget_messages(3),
        "purge_messages": lambda: damaged.purge_messages(60),
    }
    try:
        for name, call in calls.items():
            with caplog.at_level(logging.ERROR, logger="bot.store"):
                caplog.clear()
                with pytest.raises(StoreError):
                    await call()
                assert any("malformed" in r.getMessage() for r in caplog.records), name
    finally:
        await damaged.close()


async def test_a_locked_database_fails_after_the_timeout_instead_of_hanging(
    db_path: Path,
) -> None:
    store = await SQLiteStore.open(db_path, busy_timeout=0.2)
    await store.set_context(HERE, "Antes del bloqueo.")
    holder = lock_exclusively(db_path)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            await store.set_context(HERE, "Durante el bloqueo.")
        assert 0.15 < time.monotonic() - started < 3.0
        with pytest.raises(StoreError):
            await store.forget_chat(HERE)
        assert await store.get_context(HERE) == "Antes del bloqueo."  # WAL: readers go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await store.set_context(HERE, "Después del bloqueo.")  # nothing was left half-done
    assert await store.get_context(HERE) == "Después del bloqueo."
    await store.close()


@pytest.mark.parametrize(
    "request_",
    [
        Request(chat_id=HERE, user_id=ANA, command="olvidar"),
        Request(chat_id=HERE, user_id=ANA, command="fin"),
        Request(chat_id=HERE, user_id=ANA, text="Un texto para los botones."),
    ],
    ids=["olvidar", "fin", "plain text"],
)
async def test_a_locked_database_reaches_the_user_as_the_store_apology(
    request_: Request, settings: Settings, engine: Engine
) -> None:
    """Every write fails as StoreError, so the user reads ERROR_STORE, not an unexpected error."""
    store = await SQLiteStore.open(settings.database_path, busy_timeout=0.1)
    services = Services(settings=settings, engine=engine, store=store)
    holder = lock_exclusively(settings.database_path)
    try:
        reply = await handlers.dispatch(request_, services)
    finally:
        holder.close()
        await store.close()
    assert reply.parts == [texts.ERROR_STORE]


async def test_a_store_call_blocked_for_two_seconds_does_not_delay_help_in_another_chat(
    services: Services,
) -> None:
    """The file is locked elsewhere for 2 s: /olvidar waits for it, /ayuda elsewhere does not."""
    await services.store.set_context(HERE, "Un texto que olvidar.")
    holder = lock_exclusively(services.settings.database_path)
    try:
        locked_at = time.monotonic()
        forgetting = asyncio.create_task(
            handlers.dispatch(Request(chat_id=HERE, user_id=ANA, command="olvidar"), services)
        )
        helping = asyncio.create_task(
            handlers.dispatch(Request(chat_id=THERE, user_id=BEA, command="ayuda"), services)
        )
        help_reply = await helping
        assert time.monotonic() - locked_at < 0.1
        assert texts.WELCOME in help_reply.parts[0]
        await asyncio.sleep(2.0 - (time.monotonic() - locked_at))
        assert not forgetting.done()  # still waiting for the lock, without holding up the loop
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (await forgetting).parts == [texts.FORGOTTEN]
    assert await services.store.get_context(HERE) is None


async def test_opening_a_database_locked_by_another_process_fails_after_the_timeout(
    db_path: Path,
) -> None:
    await (await SQLiteStore.open(db_path)).close()
    holder = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            await SQLiteStore.open(db_path, busy_timeout=0.2)
        assert time.monotonic() - started < 3.0
    finally:
        holder.close()
    await (await SQLiteStore.open(db_path)).close()  # usable again once the other lets go


def test_an_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StoreError):
        asyncio.run(SQLiteStore.open(blocker / "tertulia.sqlite3"))
    assert os.path.isfile(blocker)


async def test_the_file_is_kept_in_wal_mode(db_path: Path) -> None:
    """WAL lets readers go on while another process writes."""
    await (await SQLiteStore.open(db_path)).close()
    with contextlib.closing(sqlite3.connect(db_path)) as other:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
