"""ALLOWED_CHATS and RATE_LIMIT_PER_MINUTE: refusals are polite, brief, and run nothing.

With REDIS_URL their memory is in Redis, so several bot processes count and refuse together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot import texts
from bot.access import REFUSAL_MEMORY_S, AccessMemory, ChatAllowList, LocalMemory, RateLimiter
from bot.store_redis import RedisStore
from tests.handlers.conftest import Chat, MakeServices, plain, requests_of

OpenMemory = Callable[[], Awaitable[AccessMemory]]


@pytest.fixture
async def bot_processes(redis_url: str) -> AsyncIterator[OpenMemory]:
    """Each call is another bot process's memory: its own connection to the same Redis."""
    stores: list[RedisStore] = []

    async def open_memory() -> AccessMemory:
        stores.append(await RedisStore.open(redis_url))
        return stores[-1].access_memory()

    yield open_memory
    for store in stores:
        await store.close()


@pytest.fixture(params=["local", "redis"])
async def memory(request: pytest.FixtureRequest) -> AsyncIterator[AccessMemory]:
    """This process's memory, or Redis's (skipped, saying why, without redis-server)."""
    if request.param == "local":
        yield LocalMemory()
        return
    store = await RedisStore.open(request.getfixturevalue("redis_url"))
    yield store.access_memory()
    await store.close()


async def test_other_chats_get_one_polite_refusal_and_nothing_runs(
    make_services: MakeServices,
) -> None:
    services = await make_services(allowed_chats=[100])
    allowed = Chat(services, chat_id=100)
    stranger = Chat(services, chat_id=999)
    first = await stranger.command("sentimiento", "Me encanta")
    assert plain(first) == texts.NOT_ALLOWED
    second = await stranger.command("sentimiento", "Otra vez")
    assert second.parts == []
    assert requests_of(services, "sentiment") == 0
    assert plain(await allowed.command("sentimiento", "Me encanta")) != texts.NOT_ALLOWED
    assert requests_of(services, "sentiment") == 1


async def test_a_flooding_user_is_told_once_and_others_are_served(
    make_services: MakeServices,
) -> None:
    services = await make_services(rate_limit_per_minute=3)
    ana = Chat(services, chat_id=100, user_id=7)
    bea = Chat(services, chat_id=200, user_id=8)
    for _ in range(3):
        assert "Uso" not in plain(await ana.command("ayuda"))
    warned = await ana.command("sentimiento", "hola")
    assert "Espera" in plain(warned)
    assert (await ana.command("ayuda")).parts == []  # quiet after one warning
    started = time.perf_counter()
    replies = await asyncio.gather(*(bea.command("ayuda") for _ in range(3)))
    assert all(r.parts for r in replies)
    assert time.perf_counter() - started < 1.0
    assert requests_of(services, "sentiment") == 0


async def test_rate_window_slides(memory: AccessMemory) -> None:
    limiter = RateLimiter(per_minute=2, memory=memory)
    assert await limiter.wait_seconds(1, now=0.0) == 0
    assert await limiter.wait_seconds(1, now=10.0) == 0
    assert await limiter.wait_seconds(1, now=20.0) == 40.0
    assert await limiter.wait_seconds(2, now=20.0) == 0  # each user has a window of their own
    assert await limiter.wait_seconds(1, now=60.5) == 0  # the first hit left the window
    assert await RateLimiter(per_minute=0, memory=memory).wait_seconds(1) == 0


async def test_a_flood_is_warned_about_once_per_window(memory: AccessMemory) -> None:
    limiter = RateLimiter(per_minute=2, memory=memory)
    assert await limiter.should_warn(1, now=0.0)
    assert not await limiter.should_warn(1, now=30.0)
    assert await limiter.should_warn(2, now=30.0)
    assert await limiter.should_warn(1, now=60.0)


async def test_a_refused_chat_hears_it_once(memory: AccessMemory) -> None:
    allow_list = ChatAllowList(frozenset({100}), memory=memory)
    assert allow_list.allows(100)
    assert not allow_list.allows(999)
    assert await allow_list.first_refusal(999, now=0.0)
    assert not await allow_list.first_refusal(999, now=3600.0)
    assert await allow_list.first_refusal(998, now=3600.0)
    # A stranger's chat id is not remembered for good: after a week it is told once more.
    assert await allow_list.first_refusal(999, now=REFUSAL_MEMORY_S + 1)


# Several bot processes over one Redis


async def test_two_bot_processes_count_one_users_requests_together(
    bot_processes: OpenMemory,
) -> None:
    ours, theirs = [RateLimiter(per_minute=3, memory=await bot_processes()) for _ in range(2)]
    assert [await limiter.wait_seconds(7) for limiter in (ours, theirs, ours)] == [0, 0, 0]
    assert 59 < await theirs.wait_seconds(7) <= 60
    assert 59 < await ours.wait_seconds(7) <= 60
    assert await theirs.wait_seconds(8) == 0
    assert await ours.should_warn(7)
    assert not await theirs.should_warn(7)  # one warning between both processes


async def test_hits_at_the_same_moment_in_two_processes_are_all_counted(
    bot_processes: OpenMemory,
) -> None:
    ours, theirs = [RateLimiter(per_minute=10, memory=await bot_processes()) for _ in range(2)]
    waits = await asyncio.gather(
        *(limiter.wait_seconds(7, now=1000.0) for _ in range(15) for limiter in (ours, theirs))
    )
    assert sorted(waits)[:10] == [0] * 10
    assert all(wait == 60.0 for wait in sorted(waits)[10:])


async def test_a_stranger_is_refused_once_between_two_bot_processes(
    make_services: MakeServices, redis_url: str
) -> None:
    first, second = [
        await make_services(allowed_chats=[100], redis_url=redis_url) for _ in range(2)
    ]
    assert plain(await Chat(first, chat_id=999).command("ayuda")) == texts.NOT_ALLOWED
    assert (await Chat(second, chat_id=999).command("ayuda")).parts == []
    assert (await Chat(first, chat_id=999).command("ayuda")).parts == []
    assert plain(await Chat(second, chat_id=100).command("ayuda")) != texts.NOT_ALLOWED


async def test_a_user_flooding_two_bot_processes_is_limited_and_warned_once(
    make_services: MakeServices, redis_url: str
) -> None:
    first, second = [
        await make_services(rate_limit_per_minute=3, redis_url=redis_url) for _ in range(2)
    ]
    for services in (first, second, first):
        assert "Espera" not in plain(await Chat(services, user_id=7).command("ayuda"))
    assert "Espera" in plain(await Chat(second, user_id=7).command("ayuda"))
    assert (await Chat(first, user_id=7).command("ayuda")).parts == []
    assert "Espera" not in plain(await Chat(first, user_id=8).command("ayuda"))


async def test_the_console_operator_is_never_limited_nor_refused(
    make_services: MakeServices,
) -> None:
    services = await make_services(rate_limit_per_minute=3, allowed_chats=[100])
    operator = Chat(services, chat_id=1, user_id=1)
    for number in range(10):
        reply = await operator.command("contexto", "palabra " * (number + 1), operator=True)
        assert texts.WORDS.count(number + 1) in plain(reply)
    assert plain(await Chat(services, chat_id=1, user_id=1).command("ayuda")) == texts.NOT_ALLOWED
