"""What every handler receives besides its Request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.access import ChatAllowList, RateLimiter, memory_for
from bot.chat_members import ChatMembers, NoAdministrators

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
    # Who administers a group (the group commands ask); each adapter sets its own.
    members: ChatMembers = field(default_factory=NoAdministrators)
    rate_limiter: RateLimiter = field(init=False)
    allow_list: ChatAllowList = field(init=False)
    # (chat, user) question modes this process started or has reminded the user of; one found
    # in the store but not here outlived a restart, and its next question says so.
    question_modes_seen: set[tuple[int, int]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        memory = memory_for(self.store)  # Redis's when the store is in Redis
        self.rate_limiter = RateLimiter(self.settings.rate_limit_per_minute, memory)
        self.allow_list = ChatAllowList(frozenset(self.settings.allowed_chats), memory)
