"""What every handler receives besides its Request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.access import ChatAllowList, RateLimiter

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine.backend import InferenceBackend
    from bot.store import Store


@dataclass
class Services:
    settings: Settings
    engine: InferenceBackend
    store: Store
    bot_username: str = ""
    rate_limiter: RateLimiter = field(init=False)
    allow_list: ChatAllowList = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limiter = RateLimiter(self.settings.rate_limit_per_minute)
        self.allow_list = ChatAllowList(frozenset(self.settings.allowed_chats))
