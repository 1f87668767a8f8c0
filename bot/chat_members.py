"""Who administers a group: the seam the group commands ask, so handlers never know Telegram.

The Telegram adapter asks the Bot API (bot/telegram_members.py); the console is its operator's
own chat, where the operator is the administrator.
"""

from __future__ import annotations

from typing import Protocol


class ChatMembers(Protocol):
    """Answers whether a user administers a chat."""

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """False when it cannot be checked: an unverified sender never switches anything."""
        ...


class NoAdministrators:
    """Where no transport can be asked (tests of handlers, a bare Services): nobody is one."""

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return False


class OperatorIsAdministrator:
    """The console's: its only user is the bot's operator, who administers every chat."""

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return True
