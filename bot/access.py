"""Who may use the bot and how often: ALLOWED_CHATS and RATE_LIMIT_PER_MINUTE.

What they remember (recent requests, warnings, refusals) lives in an `AccessMemory`: this
process's own, or Redis's when the store is in Redis (bot/store_redis.py), so that several
bot processes count one user's requests together and refuse a chat only once between them.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

WINDOW_S = 60.0
# Long enough to be silence for a chat that keeps writing; short enough that a stranger's
# chat id is not kept for good.
REFUSAL_MEMORY_S = 7 * 86400.0


class AccessMemory(Protocol):
    """Sliding windows and "only once" marks by key. Failures are StoreErrors."""

    def now(self) -> float:
        """Seconds on the clock this memory's marks are kept in."""
        ...

    async def hit(self, key: str, now: float, limit: int, window: float) -> float:
        """0 when fewer than `limit` hits are in the window (and counts this one), else seconds
        until one leaves it."""
        ...

    async def first(self, key: str, now: float, within: float) -> bool:
        """True, and marks `key`, unless it was marked less than `within` seconds ago."""
        ...


@runtime_checkable
class SharesAccessMemory(Protocol):
    """A store whose memory every bot process sees (Redis) also keeps the access marks."""

    def access_memory(self) -> AccessMemory: ...


def memory_for(store: object) -> AccessMemory:
    """The store's shared memory where it has one, else this process's own."""
    if isinstance(store, SharesAccessMemory):
        return store.access_memory()
    return LocalMemory()


@dataclass
class LocalMemory:
    """This process's memory: right for one bot process, and forgotten when it stops."""

    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _marks: dict[str, float] = field(default_factory=dict)

    def now(self) -> float:
        return time.monotonic()

    async def hit(self, key: str, now: float, limit: int, window: float) -> float:
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= window:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)
            return 0.0
        return window - (now - hits[0])

    async def first(self, key: str, now: float, within: float) -> bool:
        last = self._marks.get(key)
        if last is not None and now - last < within:
            return False
        self._marks[key] = now
        return True


@dataclass
class RateLimiter:
    """A sliding one-minute window per user."""

    per_minute: int
    memory: AccessMemory = field(default_factory=LocalMemory)

    async def wait_seconds(self, user_id: int, now: float | None = None) -> float:
        """0 when the request may run (and counts it), else seconds until it could."""
        if self.per_minute <= 0:
            return 0.0
        now = self.memory.now() if now is None else now
        return await self.memory.hit(f"rate:{user_id}", now, self.per_minute, WINDOW_S)

    async def should_warn(self, user_id: int, now: float | None = None) -> bool:
        """Warn a flooding user once per window, then stay quiet instead of adding to the flood."""
        now = self.memory.now() if now is None else now
        return await self.memory.first(f"warned:{user_id}", now, WINDOW_S)


@dataclass
class ChatAllowList:
    """ALLOWED_CHATS: empty means everyone; other chats get one polite refusal, then silence."""

    allowed: frozenset[int]
    memory: AccessMemory = field(default_factory=LocalMemory)

    def allows(self, chat_id: int) -> bool:
        return not self.allowed or chat_id in self.allowed

    async def first_refusal(self, chat_id: int, now: float | None = None) -> bool:
        now = self.memory.now() if now is None else now
        return await self.memory.first(f"refused:{chat_id}", now, REFUSAL_MEMORY_S)
