"""The users and chats tests act as, rendered as Bot API objects with Telegram's id rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ChatSpec", "UserSpec", "group_chat", "private_chat"]

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class UserSpec:
    """A Telegram user the tests act as; frozen so it can key dicts and sets."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "es"
    is_bot: bool = False

    def to_dict(self) -> JSONDict:
        """Render as a Bot API User object, leaving out empty optional fields like Telegram."""
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class ChatSpec:
    """A chat the tests talk in; private chats share the user's id, groups have negative ids."""

    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def __post_init__(self) -> None:
        """Reject ids Telegram would never give, so tests do not build impossible chats."""
        if self.type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {self.type!r}")
        if self.type == "private" and self.id <= 0:
            raise ValueError("private chats have the (positive) id of the user")
        if self.type != "private" and self.id >= 0:
            raise ValueError("group, supergroup and channel ids are negative")

    def to_dict(self) -> JSONDict:
        """Render as a Bot API Chat object."""
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


def private_chat(user: UserSpec) -> ChatSpec:
    """Build the private chat between the bot and `user` (chat id == user id, as on Telegram)."""
    return ChatSpec(
        id=user.id,
        type="private",
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
    )


def group_chat(
    chat_id: int = -1001234567890, title: str = "Tertulia de prueba", type: str = "supergroup"
) -> ChatSpec:
    """Build a group ("group") or supergroup ("supergroup") chat; ids must be negative."""
    if type not in ("group", "supergroup"):
        raise ValueError("type must be 'group' or 'supergroup'")
    return ChatSpec(id=chat_id, type=type, title=title)
