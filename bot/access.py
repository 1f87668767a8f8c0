"""Who may use the bot and how often: ALLOWED_CHATS and RATE_LIMIT_PER_MINUTE."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

WINDOW_S = 60.0


@dataclass
class RateLimiter:
    """A sliding one-minute window per user, kept in memory."""

    per_minute: int
    _hits: dict[int, deque[float]] = field(default_factory=dict)
    _warned: dict[int, float] = field(default_factory=dict)

    def wait_seconds(self, user_id: int, now: float | None = None) -> float:
        """0 when the request may run (and counts it), else seconds until it could."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(user_id, deque())
        while hits and now - hits[0] >= WINDOW_S:
            hits.popleft()
        if len(hits) < self.per_minute:
            hits.append(now)
            return 0.0
        return WINDOW_S - (now - hits[0])

    def should_warn(self, user_id: int, now: float | None = None) -> bool:
        """Warn a flooding user once per window, then stay quiet instead of adding to the flood."""
        now = time.monotonic() if now is None else now
        last = self._warned.get(user_id)
        if last is not None and now - last < WINDOW_S:
            return False
        self._warned[user_id] = now
        return True


@dataclass
class ChatAllowList:
    """ALLOWED_CHATS: empty means everyone; other chats get one polite refusal, then silence."""

    allowed: frozenset[int]
    _refused: set[int] = field(default_factory=set)

    def allows(self, chat_id: int) -> bool:
        return not self.allowed or chat_id in self.allowed

    def first_refusal(self, chat_id: int) -> bool:
        if chat_id in self._refused:
            return False
        self._refused.add(chat_id)
        return True
