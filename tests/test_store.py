"""The Store contract: what each chat keeps and how it is forgotten, for every implementation.

Each test runs once per entry in IMPLEMENTATIONS: SQLite, and a real redis-server (skipped, with
the reason, where none is installed). Faults of one implementation are in
tests/test_store_sqlite.py and tests/test_store_redis.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.store import SQLiteStore, Store, StoreError
from bot.store_redis import RedisStore
from tests.conftest import FakeClock

DAY = 86400.0
LONG_AGO = 10 * 365 * DAY
ANA, BEA = 7, 8
HERE, THERE = 100, -500

OpenStore = Callable[[], Awaitable[Store]]


def sqlite_store(request: pytest.FixtureRequest) -> OpenStore:
    path: Path = request.getfixturevalue("tmp_path") / "data" / "tertulia.sqlite3"
    return lambda: SQLiteStore.open(path)


def redis_store(request: pytest.FixtureRequest) -> OpenStore:
    url: str = request.getfixturevalue("redis_url")  # an emptied Redis, or a skip saying why
    return lambda: RedisStore.open(url)


# Every implementation of Store: given the test, how to open it over a place of its own.
IMPLEMENTATIONS: list[Callable[[pytest.FixtureRequest], OpenStore]] = [sqlite_store, redis_store]


@pytest.fixture(params=IMPLEMENTATIONS, ids=lambda opener: opener.__name__)
async def open_store(request: pytest.FixtureRequest) -> AsyncIterator[OpenStore]:
    """Opens the implementation over the same data each time, as a restarted bot would."""
    opener: OpenStore = request.param(request)
    opened: list[Store] = []

    async def open_() -> Store:
        store = await opener()
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Store:
    return await open_store()


async def with_data(store: Store, chat_id: int) -> int:
    """Gives a chat one of everything; returns the saved text's id."""
    await store.set_context(chat_id, f"Texto de lectura de {chat_id}.")
    await store.start_questions(chat_id, ANA)
    return await store.save_text(chat_id, f"Texto de un botón de {chat_id}.")


# Reading text


async def test_reading_text_is_kept_per_chat_and_replaced(store: Store) -> None:
    assert await store.get_context(HERE) is None
    await store.set_context(HERE, "Ana vive en Zaragoza.")
    await store.set_context(THERE, "Otro chat.")
    await store.set_context(HERE, "Bea vive en Lima. 🦙 \u200b<b>&")
    assert await store.get_context(HERE) == "Bea vive en Lima. 🦙 \u200b<b>&"
    assert await store.get_context(THERE) == "Otro chat."


async def test_everything_survives_reopening(open_store: OpenStore) -> None:
    first = await open_store()
    text_id = await with_data(first, HERE)
    await first.close()
    again = await open_store()
    assert await again.get_context(HERE) == f"Texto de lectura de {HERE}."
    assert await again.in_questions(HERE, ANA, idle_seconds=60)
    assert await again.get_text(HERE, text_id) == f"Texto de un botón de {HERE}."


async def test_two_bot_processes_share_one_store(open_store: OpenStore) -> None:
    """Two stores open at once over the same data: unique ids, and each reads the other's."""
    ours, theirs = await open_store(), await open_store()
    ids = await asyncio.gather(
        *(store.save_text(HERE, f"Texto {n}.") for n in range(10) for store in (ours, theirs))
    )
    assert len(set(ids)) == len(ids)
    assert await theirs.get_text(HERE, ids[0]) == "Texto 0."
    await ours.set_context(HERE, "Escrito por uno.")
    await theirs.start_questions(HERE, ANA)
    assert await theirs.get_context(HERE) == "Escrito por uno."
    assert await ours.in_questions(HERE, ANA, idle_seconds=60)
    await theirs.forget_chat(HERE)
    assert await ours.get_context(HERE) is None


# Question mode


async def test_question_mode_is_per_user_and_ends_once(store: Store) -> None:
    await store.start_questions(HERE, ANA)
    assert await store.in_questions(HERE, ANA, idle_seconds=60)
    assert not await store.in_questions(HERE, BEA, idle_seconds=60)
    assert not await store.in_questions(THERE, ANA, idle_seconds=60)
    assert await store.end_questions(HERE, ANA) is True
    assert await store.end_questions(HERE, ANA) is False
    assert not await store.in_questions(HERE, ANA, idle_seconds=60)


async def test_question_mode_expires_when_idle_and_a_touch_keeps_it(
    store: Store, clock: FakeClock
) -> None:
    await store.start_questions(HERE, ANA)
    clock.advance(50)
    await store.touch_questions(HERE, ANA)
    clock.advance(50)
    assert await store.in_questions(HERE, ANA, idle_seconds=60)  # 50 s since the touch
    clock.advance(61)
    assert not await store.in_questions(HERE, ANA, idle_seconds=60)
    assert await store.end_questions(HERE, ANA) is False  # expiry removed it for good


async def test_touching_without_question_mode_does_not_start_it(store: Store) -> None:
    await store.touch_questions(HERE, ANA)
    assert not await store.in_questions(HERE, ANA, idle_seconds=60)


# Texts behind buttons


async def test_saved_texts_are_scoped_by_chat(store: Store) -> None:
    mine = await store.save_text(HERE, "Mi texto.")
    theirs = await store.save_text(THERE, "Su texto.")
    assert mine != theirs
    assert await store.get_text(HERE, mine) == "Mi texto."
    assert await store.get_text(THERE, mine) is None  # a forged button cannot read another chat
    assert await store.get_text(HERE, theirs) is None
    assert await store.get_text(HERE, 999_999) is None


async def test_calls_made_at_once_all_land(store: Store) -> None:
    """Many chats writing together: every text gets its own id and reads back unmixed."""
    chats = range(1, 41)
    ids = await asyncio.gather(*(store.save_text(chat, f"Texto {chat}.") for chat in chats))
    await asyncio.gather(*(store.set_context(chat, f"Lectura {chat}.") for chat in chats))
    assert len(set(ids)) == len(ids)
    texts = await asyncio.gather(
        *(store.get_text(chat, text_id) for chat, text_id in zip(chats, ids, strict=True))
    )
    assert texts == [f"Texto {chat}." for chat in chats]
    assert await asyncio.gather(*(store.get_context(chat) for chat in chats)) == [
        f"Lectura {chat}." for chat in chats
    ]


# Privacy


async def test_forget_chat_removes_everything_of_that_chat_only(store: Store) -> None:
    here_id = await with_data(store, HERE)
    there_id = await with_data(store, THERE)
    await store.start_questions(HERE, BEA)

    await store.forget_chat(HERE)

    assert await store.get_context(HERE) is None
    assert not await store.in_questions(HERE, ANA, idle_seconds=60)
    assert not await store.in_questions(HERE, BEA, idle_seconds=60)
    assert await store.get_text(HERE, here_id) is None
    assert await store.get_context(THERE) == f"Texto de lectura de {THERE}."
    assert await store.in_questions(THERE, ANA, idle_seconds=60)
    assert await store.get_text(THERE, there_id) == f"Texto de un botón de {THERE}."
    await store.forget_chat(HERE)  # forgetting twice is fine


async def test_purge_removes_old_texts_only(store: Store, clock: FakeClock) -> None:
    old_id = await with_data(store, HERE)
    clock.advance(31 * DAY)
    await store.set_context(THERE, "Reciente.")
    new_id = await store.save_text(THERE, "Botón reciente.")

    removed = await store.purge(older_than_days=30)

    assert removed == 2  # HERE's reading text and saved text
    assert await store.get_context(HERE) is None
    assert await store.get_text(HERE, old_id) is None
    assert await store.get_context(THERE) == "Reciente."
    assert await store.get_text(THERE, new_id) == "Botón reciente."
    # Question mode has its own idle expiry; the purge leaves it alone.
    assert await store.in_questions(HERE, ANA, idle_seconds=LONG_AGO)
    assert await store.purge(older_than_days=30) == 0


async def test_replacing_a_reading_text_renews_its_age(store: Store, clock: FakeClock) -> None:
    await store.set_context(HERE, "Antiguo.")
    clock.advance(29 * DAY)
    await store.set_context(HERE, "Nuevo.")
    clock.advance(2 * DAY)
    assert await store.purge(older_than_days=30) == 0
    assert await store.get_context(HERE) == "Nuevo."


# Groups: options and remembered messages

HOUR = 3600.0


async def test_group_options_are_switched_per_chat_and_survive_reopening(
    open_store: OpenStore,
) -> None:
    store = await open_store()
    assert await store.group_options(HERE) == frozenset()
    await store.set_group_option(HERE, "memory", True)
    await store.set_group_option(HERE, "memory", True)  # switching on twice is harmless
    await store.set_group_option(HERE, "autotranslate", True)
    await store.set_group_option(THERE, "autotranslate", True)
    await store.set_group_option(HERE, "autotranslate", False)
    await store.set_group_option(THERE, "memory", False)  # off when never on is harmless
    await store.close()
    again = await open_store()
    assert await again.group_options(HERE) == {"memory"}
    assert await again.group_options(THERE) == {"autotranslate"}


async def test_remembered_messages_come_back_oldest_first_per_chat(store: Store) -> None:
    for n in range(5):
        await store.remember_message(HERE, "Ana" if n % 2 else "Bea", f"Mensaje {n}", 200, HOUR)
    await store.remember_message(THERE, "Eve", "Otro grupo", 200, HOUR)
    await store.remember_message(HERE, "Ñandú <b>&", "Línea 1\nlínea 2 🦙 \u200b", 200, HOUR)

    last = await store.recent_messages(HERE, 3, HOUR)

    assert [(m.author, m.text) for m in last] == [
        ("Ana", "Mensaje 3"),
        ("Bea", "Mensaje 4"),
        ("Ñandú <b>&", "Línea 1\nlínea 2 🦙 \u200b"),
    ]
    assert [m.text for m in await store.recent_messages(HERE, 200, HOUR)] == [
        *(f"Mensaje {n}" for n in range(5)),
        "Línea 1\nlínea 2 🦙 \u200b",
    ]
    assert [m.text for m in await store.recent_messages(THERE, 50, HOUR)] == ["Otro grupo"]
    assert await store.recent_messages(-999, 50, HOUR) == []


async def test_only_the_newest_messages_are_kept(store: Store) -> None:
    for n in range(12):
        await store.remember_message(HERE, "Ana", f"Mensaje {n}", 10, HOUR)
    kept = await store.recent_messages(HERE, 200, HOUR)
    assert [m.text for m in kept] == [f"Mensaje {n}" for n in range(2, 12)]


async def test_messages_older_than_their_age_are_never_read_and_go_away(
    store: Store, clock: FakeClock
) -> None:
    await store.remember_message(HERE, "Ana", "Viejo", 200, 24 * HOUR)
    await store.remember_message(THERE, "Bea", "Viejo de otro grupo", 200, 24 * HOUR)
    clock.advance(23 * HOUR)
    await store.remember_message(HERE, "Ana", "Reciente", 200, 24 * HOUR)
    clock.advance(2 * HOUR)
    assert [m.text for m in await store.recent_messages(HERE, 50, 24 * HOUR)] == ["Reciente"]
    assert await store.recent_messages(THERE, 50, 24 * HOUR) == []
    # Gone from the store too, not only hidden: a longer look finds nothing older.
    assert await store.purge_messages(24 * HOUR) == 2
    assert [m.text for m in await store.recent_messages(HERE, 50, 1000 * HOUR)] == ["Reciente"]
    assert await store.recent_messages(THERE, 50, 1000 * HOUR) == []
    assert await store.purge_messages(24 * HOUR) == 0


async def test_a_new_message_drops_the_expired_ones(store: Store, clock: FakeClock) -> None:
    await store.remember_message(HERE, "Ana", "Viejo", 200, HOUR)
    clock.advance(2 * HOUR)
    await store.remember_message(HERE, "Ana", "Nuevo", 200, HOUR)
    assert [m.text for m in await store.recent_messages(HERE, 50, 1000 * HOUR)] == ["Nuevo"]


async def test_forgetting_messages_empties_the_chat_and_keeps_its_options(store: Store) -> None:
    await store.set_group_option(HERE, "memory", True)
    for n in range(3):
        await store.remember_message(HERE, "Ana", f"Mensaje {n}", 200, HOUR)
    await store.remember_message(THERE, "Bea", "Se queda", 200, HOUR)

    assert await store.forget_messages(HERE) == 3

    assert await store.recent_messages(HERE, 200, HOUR) == []
    assert await store.forget_messages(HERE) == 0
    assert await store.group_options(HERE) == {"memory"}
    assert [m.text for m in await store.recent_messages(THERE, 200, HOUR)] == ["Se queda"]


async def test_forget_chat_takes_the_messages_but_not_the_options(store: Store) -> None:
    await store.set_group_option(HERE, "autotranslate", True)
    await store.remember_message(HERE, "Ana", "Hola a todos", 200, HOUR)
    await store.remember_message(THERE, "Bea", "Se queda", 200, HOUR)
    await store.forget_chat(HERE)
    assert await store.recent_messages(HERE, 200, HOUR) == []
    assert await store.group_options(HERE) == {"autotranslate"}
    assert [m.text for m in await store.recent_messages(THERE, 200, HOUR)] == ["Se queda"]


# Closing


async def test_a_write_in_flight_when_closing_is_kept(open_store: OpenStore) -> None:
    store = await open_store()
    text_id, _ = await asyncio.gather(store.save_text(HERE, "Justo a tiempo."), store.close())
    again = await open_store()
    assert await again.get_text(HERE, text_id) == "Justo a tiempo."


async def test_a_closed_store_refuses_calls_with_a_store_error(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError):
        await store.get_context(HERE)
    with pytest.raises(StoreError):
        await store.set_context(HERE, "Tarde.")
    await store.close()  # closing twice is harmless


# Wired into the bot


@pytest.fixture(params=["sqlite", "redis"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that choose each implementation: REDIS_URL set, or empty for SQLite."""
    return {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}


async def test_a_running_bot_keeps_purging_old_texts(
    make_settings: Callable[..., Settings], store_settings: dict[str, str], clock: FakeClock
) -> None:
    from bot.runtime import close_services, open_services, purge_periodically

    settings = make_settings(data_retention_days=30, **store_settings)
    services = await open_services(settings)
    assert type(services.store) is (RedisStore if settings.redis_url else SQLiteStore)
    try:
        await services.store.set_context(HERE, "Un texto que caduca.")
        purging = asyncio.create_task(purge_periodically(services, every=0.01))
        await asyncio.sleep(0.05)
        assert await services.store.get_context(HERE) == "Un texto que caduca."
        clock.advance(31 * DAY)
        for _ in range(500):  # the next round of purging, within 5 s
            await asyncio.sleep(0.01)
            if await services.store.get_context(HERE) is None:
                break
        else:
            pytest.fail("the text was not purged")
        purging.cancel()
    finally:
        await close_services(services)


async def test_a_running_bot_purges_group_messages_past_their_hours(
    make_settings: Callable[..., Settings], store_settings: dict[str, str], clock: FakeClock
) -> None:
    """GROUP_MEMORY_HOURS holds even with DATA_RETENTION_DAYS=0, which keeps other texts."""
    from bot.runtime import close_services, open_services, purge_periodically

    settings = make_settings(data_retention_days=0, group_memory_hours=2, **store_settings)
    assert settings.group_memory_seconds == 2 * HOUR
    services = await open_services(settings)
    try:
        await services.store.remember_message(HERE, "Ana", "Caduca pronto.", 200, 2 * HOUR)
        purging = asyncio.create_task(purge_periodically(services, every=0.01))
        await asyncio.sleep(0.05)
        assert len(await services.store.recent_messages(HERE, 50, LONG_AGO)) == 1
        clock.advance(2 * HOUR + 1)
        for _ in range(500):
            await asyncio.sleep(0.01)
            if not await services.store.recent_messages(HERE, 50, LONG_AGO):
                break
        else:
            pytest.fail("the group's message was not purged")
        purging.cancel()
    finally:
        await close_services(services)
