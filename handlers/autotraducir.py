"""/autotraducir on|off: in a group, English messages get a Spanish translation as a reply."""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers import grupo


async def handle(request: Request, services: Services) -> Reply:
    """Says the state, or switches it when an administrator asks."""
    wanted = await grupo.switch(request, services, grupo.AUTOTRANSLATE, texts.AUTOTRANSLATE_STATUS)
    if isinstance(wanted, Reply):
        return wanted
    if not wanted:
        return Reply.text(texts.AUTOTRANSLATE_OFF)
    lines = [texts.AUTOTRANSLATE_ON.format(words=texts.WORDS.count(grupo.MIN_WORDS))]
    if per_minute := services.settings.autotranslate_per_minute:
        lines.append(texts.AUTOTRANSLATE_LIMIT.format(count=per_minute))
    return Reply.text(" ".join(lines) + "\n\n" + texts.PRIVACY_MODE_HINT)
