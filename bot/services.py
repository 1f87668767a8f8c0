"""What every handler receives besides its Request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine import Engine
    from bot.store import ChatStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: ChatStore
    bot_username: str = ""
