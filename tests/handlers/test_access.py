"""ALLOWED_CHATS and RATE_LIMIT_PER_MINUTE: refusals are polite, brief, and run nothing."""

from __future__ import annotations

import asyncio
import time

from bot import texts
from bot.access import RateLimiter
from tests.handlers.conftest import Chat, MakeServices, plain, requests_of


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


def test_rate_window_slides() -> None:
    limiter = RateLimiter(per_minute=2)
    assert limiter.wait_seconds(1, now=0.0) == 0
    assert limiter.wait_seconds(1, now=10.0) == 0
    assert limiter.wait_seconds(1, now=20.0) == 40.0
    assert limiter.wait_seconds(1, now=60.5) == 0  # the first hit left the window
    assert RateLimiter(per_minute=0).wait_seconds(1) == 0
