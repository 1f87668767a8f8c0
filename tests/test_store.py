"""ChatStore: what each chat keeps, how it is forgotten, and failing loudly instead of losing it."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import handlers
from bot import texts
from bot.config import Settings
from bot.engine import Engine
from bot.request import Request
from bot.services import Services
from bot.store import ChatStore, StoreError
from tests.conftest import FakeClock

DAY = 86400.0
LONG_AGO = 10 * 365 * DAY
ANA, BEA = 7, 8
HERE, THERE = 100, -500


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tertulia.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[ChatStore]:
    chat_store = ChatStore(db_path)
    yield chat_store
    chat_store.close()


def with_data(store: ChatStore, chat_id: int) -> int:
    """Gives a chat one of everything; returns the saved text's id."""
    store.set_context(chat_id, f"Texto de lectura de {chat_id}.")
    store.start_questions(chat_id, ANA)
    return store.save_text(chat_id, f"Texto de un botón de {chat_id}.")


# Reading text


def test_reading_text_is_kept_per_chat_and_replaced(store: ChatStore) -> None:
    assert store.get_context(HERE) is None
    store.set_context(HERE, "Ana vive en Zaragoza.")
    store.set_context(THERE, "Otro chat.")
    store.set_context(HERE, "Bea vive en Lima. 🦙 \u200b<b>&")
    assert store.get_context(HERE) == "Bea vive en Lima. 🦙 \u200b<b>&"
    assert store.get_context(THERE) == "Otro chat."


def test_everything_survives_reopening_the_file(db_path: Path) -> None:
    first = ChatStore(db_path)
    text_id = with_data(first, HERE)
    first.close()
    again = ChatStore(db_path)
    try:
        assert again.get_context(HERE) == f"Texto de lectura de {HERE}."
        assert again.in_questions(HERE, ANA, idle_seconds=60)
        assert again.get_text(HERE, text_id) == f"Texto de un botón de {HERE}."
    finally:
        again.close()


# Question mode


def test_question_mode_is_per_user_and_ends_once(store: ChatStore) -> None:
    store.start_questions(HERE, ANA)
    assert store.in_questions(HERE, ANA, idle_seconds=60)
    assert not store.in_questions(HERE, BEA, idle_seconds=60)
    assert not store.in_questions(THERE, ANA, idle_seconds=60)
    assert store.end_questions(HERE, ANA) is True
    assert store.end_questions(HERE, ANA) is False
    assert not store.in_questions(HERE, ANA, idle_seconds=60)


def test_question_mode_expires_when_idle_and_a_touch_keeps_it(
    store: ChatStore, clock: FakeClock
) -> None:
    store.start_questions(HERE, ANA)
    clock.advance(50)
    store.touch_questions(HERE, ANA)
    clock.advance(50)
    assert store.in_questions(HERE, ANA, idle_seconds=60)  # 50 s since the touch
    clock.advance(61)
    assert not store.in_questions(HERE, ANA, idle_seconds=60)
    assert store.end_questions(HERE, ANA) is False  # expiry removed it for good


def test_touching_without_question_mode_does_not_start_it(store: ChatStore) -> None:
    store.touch_questions(HERE, ANA)
    assert not store.in_questions(HERE, ANA, idle_seconds=60)


# Texts behind buttons


def test_saved_texts_are_scoped_by_chat(store: ChatStore) -> None:
    mine = store.save_text(HERE, "Mi texto.")
    theirs = store.save_text(THERE, "Su texto.")
    assert mine != theirs
    assert store.get_text(HERE, mine) == "Mi texto."
    assert store.get_text(THERE, mine) is None  # a forged button cannot read another chat
    assert store.get_text(HERE, theirs) is None
    assert store.get_text(HERE, 999_999) is None


# Privacy


def test_forget_chat_removes_everything_of_that_chat_only(store: ChatStore) -> None:
    here_id = with_data(store, HERE)
    there_id = with_data(store, THERE)
    store.start_questions(HERE, BEA)

    store.forget_chat(HERE)

    assert store.get_context(HERE) is None
    assert not store.in_questions(HERE, ANA, idle_seconds=60)
    assert not store.in_questions(HERE, BEA, idle_seconds=60)
    assert store.get_text(HERE, here_id) is None
    assert store.get_context(THERE) == f"Texto de lectura de {THERE}."
    assert store.in_questions(THERE, ANA, idle_seconds=60)
    assert store.get_text(THERE, there_id) == f"Texto de un botón de {THERE}."
    store.forget_chat(HERE)  # forgetting twice is fine


def test_purge_removes_old_texts_only(store: ChatStore, clock: FakeClock) -> None:
    old_id = with_data(store, HERE)
    clock.advance(31 * DAY)
    store.set_context(THERE, "Reciente.")
    new_id = store.save_text(THERE, "Botón reciente.")

    removed = store.purge(older_than_days=30)

    assert removed == 2  # HERE's reading text and saved text
    assert store.get_context(HERE) is None
    assert store.get_text(HERE, old_id) is None
    assert store.get_context(THERE) == "Reciente."
    assert store.get_text(THERE, new_id) == "Botón reciente."
    # Question mode has its own idle expiry; the purge leaves it alone.
    assert store.in_questions(HERE, ANA, idle_seconds=LONG_AGO)
    assert store.purge(older_than_days=30) == 0


def test_replacing_a_reading_text_renews_its_age(store: ChatStore, clock: FakeClock) -> None:
    store.set_context(HERE, "Antiguo.")
    clock.advance(29 * DAY)
    store.set_context(HERE, "Nuevo.")
    clock.advance(2 * DAY)
    assert store.purge(older_than_days=30) == 0
    assert store.get_context(HERE) == "Nuevo."


# Failing loudly


def test_a_corrupt_file_is_refused_and_left_untouched(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = bytes(range(256)) * 40
    db_path.write_bytes(garbage)
    with caplog.at_level(logging.ERROR, logger="bot.store"), pytest.raises(StoreError):
        ChatStore(db_path)
    assert db_path.read_bytes() == garbage  # never reset into an empty database
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert str(db_path) in line
    assert "not a database" in line
    assert "left as it is" in line


def test_damage_found_later_is_a_store_error_for_every_call(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The first page is fine, the tables are not: each call fails cleanly, none half-way."""
    healthy = ChatStore(db_path)
    for chat_id in range(40):
        with_data(healthy, chat_id)
    healthy.close()
    data = bytearray(db_path.read_bytes())
    data[4096:] = bytes(b ^ 0x5A for b in data[4096:])
    db_path.write_bytes(bytes(data))

    damaged = ChatStore(db_path)
    calls = {
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
    }
    try:
        for name, call in calls.items():
            with caplog.at_level(logging.ERROR, logger="bot.store"):
                caplog.clear()
                with pytest.raises(StoreError):
                    call()
                assert any("malformed" in r.getMessage() for r in caplog.records), name
    finally:
        damaged.close()


def test_a_locked_database_fails_after_the_timeout_instead_of_hanging(db_path: Path) -> None:
    store = ChatStore(db_path, busy_timeout=0.2)
    store.set_context(HERE, "Antes del bloqueo.")
    holder = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            store.set_context(HERE, "Durante el bloqueo.")
        assert 0.15 < time.monotonic() - started < 3.0
        with pytest.raises(StoreError):
            store.forget_chat(HERE)
        assert store.get_context(HERE) == "Antes del bloqueo."  # WAL: readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.set_context(HERE, "Después del bloqueo.")  # nothing was left half-done
    assert store.get_context(HERE) == "Después del bloqueo."
    store.close()


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
    store = ChatStore(settings.database_path, busy_timeout=0.1)
    services = Services(settings=settings, engine=engine, store=store)
    holder = sqlite3.connect(settings.database_path, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        reply = await handlers.dispatch(request_, services)
    finally:
        holder.close()
        store.close()
    assert reply.parts == [texts.ERROR_STORE]


def test_opening_a_database_locked_by_another_process_fails_after_the_timeout(
    db_path: Path,
) -> None:
    ChatStore(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            ChatStore(db_path, busy_timeout=0.2)
        assert time.monotonic() - started < 3.0
    finally:
        holder.close()
    ChatStore(db_path).close()  # usable again once the other process lets go


def test_an_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StoreError):
        ChatStore(blocker / "tertulia.sqlite3")
    assert os.path.isfile(blocker)


async def test_a_running_bot_keeps_purging_old_texts(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    from bot.runtime import close_services, open_services, purge_periodically

    services = open_services(make_settings(data_retention_days=30))
    try:
        services.store.set_context(HERE, "Un texto que caduca.")
        purging = asyncio.create_task(purge_periodically(services, every=0.01))
        await asyncio.sleep(0.05)
        assert services.store.get_context(HERE) == "Un texto que caduca."
        clock.advance(31 * DAY)
        await asyncio.sleep(0.05)
        assert services.store.get_context(HERE) is None
        purging.cancel()
    finally:
        await close_services(services)
