"""End-to-end fixtures: the real Application against a local Bot API server over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.config import Settings
from bot.runtime import close_services, open_services
from bot.telegram_app import TelegramBot
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.telegram_chats import ChatSpec, UserSpec, group_chat, private_chat

ANA = UserSpec(id=1001, first_name="Ana", username="ana")
BEA = UserSpec(id=1002, first_name="Bea", username="bea")


class TelegramHarness:
    """A running bot plus the server it talks to, with helpers that act like users."""

    def __init__(self, server: BotApiServer, make_settings: Callable[..., Settings]) -> None:
        self.server = server
        self.make_settings = make_settings
        self.bot: TelegramBot | None = None
        self.overrides: dict[str, Any] = {}

    def settings(self, **overrides: Any) -> Settings:
        values = dict(
            telegram_bot_token=self.server.token,
            telegram_base_url=self.server.base_url,
            telegram_base_file_url=self.server.base_file_url,
            admin_users=[ANA.id],
        )
        values.update(self.overrides)
        values.update(overrides)
        return self.make_settings(**values)

    async def start(self, **overrides: Any) -> TelegramBot:
        self.overrides.update(overrides)
        self.bot = TelegramBot(await open_services(self.settings()))
        await self.bot.start(poll_timeout=1)
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            await close_services(self.bot.services)
            self.bot = None

    async def restart(self) -> None:
        """A new bot process: fresh engine and store over the same data directory."""
        await self.stop()
        await self.start()

    async def say(
        self,
        chat: ChatSpec,
        user: UserSpec,
        text: str,
        count: int = 1,
        timeout: float = 20.0,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Send a message and wait for `count` new bot messages in that chat."""
        self.server.mark(chat.id)
        self.server.user_sends(chat, user, text, **kwargs)
        return await self.server.wait_for_messages(chat.id, count, timeout=timeout)

    async def press(
        self, chat: ChatSpec, user: UserSpec, message_id: int, data: str, count: int = 1
    ) -> list[dict[str, Any]]:
        self.server.mark(chat.id)
        self.server.user_presses(chat, user, message_id, data)
        return await self.server.wait_for_messages(chat.id, count, timeout=20.0)


@pytest.fixture
async def tg(make_settings: Callable[..., Settings]) -> AsyncIterator[TelegramHarness]:
    async with BotApiServer() as server:
        harness = TelegramHarness(server, make_settings)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()


@pytest.fixture
def ana_chat() -> ChatSpec:
    return private_chat(ANA)


@pytest.fixture
def bea_chat() -> ChatSpec:
    return private_chat(BEA)


@pytest.fixture
def group() -> ChatSpec:
    return group_chat()
