"""/memoria on|off: a group's recent messages kept for /resumen_chat, and deleted at once."""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers import grupo


async def handle(request: Request, services: Services) -> Reply:
    """Says the state, or switches it when an administrator asks; off deletes everything."""
    wanted = await grupo.switch(request, services, grupo.MEMORY, texts.MEMORY_STATUS)
    if isinstance(wanted, Reply):
        return wanted
    if wanted:
        switched_on = texts.MEMORY_ON.format(
            keep=texts.MESSAGES.count(grupo.MEMORY_KEEP),
            duration=grupo.duration(services.settings.group_memory_seconds),
        )
        return Reply.text(switched_on + "\n\n" + texts.PRIVACY_MODE_HINT)
    forgotten = await services.store.forget_messages(request.chat_id)
    if not forgotten:
        return Reply.text(texts.MEMORY_OFF_EMPTY)
    return Reply.text(texts.MEMORY_OFF.format(count=texts.MESSAGES.count(forgotten)))


async def after_forgetting(request: Request, services: Services) -> str | None:
    """/olvidar's word on a group's memory: its messages went, and new ones are still kept."""
    if request.is_private:
        return None
    if grupo.MEMORY not in await services.store.group_options(request.chat_id):
        return None
    return texts.MEMORY_STILL_ON
