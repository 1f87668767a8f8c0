"""Talking to the handlers the way a user does: a chat that sends commands, text and presses.

Every reply is checked on the way back: each part must be valid Telegram HTML with visible
text, and every button must carry callback data Telegram accepts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import handlers
from bot.config import Settings
from bot.engine import Engine
from bot.formatting import html_to_plain
from bot.request import ChatKind, Reply, Request
from bot.services import Services
from bot.store import open_store
from tests.e2e.telegram_html import parse_html

MakeServices = Callable[..., Awaitable[Services]]
ANA = 7
BEA = 8


def check_reply(reply: Reply) -> Reply:
    """Fails unless every part is Telegram HTML with visible text and every button is valid."""
    for part in reply.parts:
        parse_html(part)  # strict: unknown tags, bad nesting and a bare "&" all raise
        assert html_to_plain(part).strip(), f"a part with no visible text: {part!r}"
    for row in reply.buttons:
        assert row, "an empty row of buttons"
        for button in row:
            assert button.label.strip()
            assert 0 < len(button.data.encode()) <= 64, button.data
    return reply


def plain(reply: Reply) -> str:
    """What the user reads: every part without markup."""
    return "\n".join(html_to_plain(part) for part in reply.parts)


def button_data(reply: Reply) -> list[str]:
    return [button.data for row in reply.buttons for button in row]


def requests_of(services: Services, task: str) -> int:
    """How many requests a task's model has served: proof of which model answered."""
    count: int = services.engine.status().models[task].requests
    return count


@dataclasses.dataclass
class Chat:
    """One user in one chat, talking to the bot through `handlers.dispatch`."""

    services: Services
    chat_id: int = 100
    user_id: int = ANA
    kind: ChatKind = "private"

    def request(self, **fields: Any) -> Request:
        return Request(chat_id=self.chat_id, user_id=self.user_id, chat_kind=self.kind, **fields)

    async def send(self, request: Request) -> Reply:
        return check_reply(await handlers.dispatch(request, self.services))

    async def command(self, name: str, text: str = "", **fields: Any) -> Reply:
        """`/name text`, with reply_text=, document_text= and the like as keywords."""
        return await self.send(self.request(command=name, text=text, **fields))

    async def say(self, text: str, **fields: Any) -> Reply:
        """A plain message."""
        return await self.send(self.request(text=text, **fields))

    async def press(self, data: str) -> Reply:
        """A button press."""
        return await self.send(self.request(action=data))

    def as_user(self, user_id: int) -> Chat:
        """Someone else in the same chat."""
        return dataclasses.replace(self, user_id=user_id)

    def elsewhere(self, chat_id: int, kind: ChatKind = "private") -> Chat:
        """The same user in another chat."""
        return dataclasses.replace(self, chat_id=chat_id, kind=kind)


@pytest.fixture
def chat(services: Services) -> Chat:
    """A private chat with Ana."""
    return Chat(services)


@pytest.fixture
def group(services: Services) -> Chat:
    """Ana in a group chat."""
    return Chat(services, chat_id=-500, kind="group")


@pytest.fixture
async def make_services(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[MakeServices]:
    """Services on settings of our own (admins, a controlled QA model...); closed afterwards."""
    made: list[Services] = []

    async def make(**overrides: Any) -> Services:
        overrides.setdefault("data_dir", tmp_path / f"data-{len(made)}")
        settings = make_settings(**overrides)
        services = Services(
            settings=settings,
            engine=Engine(settings),
            store=await open_store(settings),  # Redis when a test sets redis_url
            bot_username="TertuliaTestBot",
        )
        made.append(services)
        return services

    yield make
    for services in made:
        await services.engine.close()
        await services.store.close()
