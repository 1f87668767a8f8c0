"""`ChatMembers` over the Bot API: getChatMember, remembered for a few seconds."""

from __future__ import annotations

import logging
import time

from telegram import Bot, ChatMember
from telegram.error import TelegramError

log = logging.getLogger(__name__)

# Long enough for "/memoria on" right after "/autotraducir on"; short enough that a demoted
# administrator loses the switches at once.
CACHE_S = 5.0
ADMIN_STATUSES = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


class TelegramMembers:
    """Asks Telegram whether a user administers a chat; a failed check counts as "no"."""

    def __init__(self, bot: Bot, cache_seconds: float = CACHE_S) -> None:
        self.bot = bot
        self.cache_seconds = cache_seconds
        self._answers: dict[tuple[int, int], tuple[float, bool]] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        now = time.monotonic()
        cached = self._answers.get((chat_id, user_id))
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            log.warning("could not check user %s in chat %s: %s", user_id, chat_id, exc)
            return False
        admin = member.status in ADMIN_STATUSES
        # Expired answers go as new ones come, so the cache never outgrows the recent askers.
        self._answers = {
            key: value
            for key, value in self._answers.items()
            if now - value[0] < self.cache_seconds
        }
        self._answers[(chat_id, user_id)] = (now, admin)
        return admin
