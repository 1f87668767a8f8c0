"""/olvidar: delete everything stored for the chat (reading text, question mode, buttons, a
group's remembered messages)."""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers import memoria


async def handle(request: Request, services: Services) -> Reply:
    """Forgets the chat and says so."""
    await services.store.forget_chat(request.chat_id)
    if memory_still_on := await memoria.after_forgetting(request, services):
        return Reply.text(texts.FORGOTTEN + "\n\n" + memory_still_on)
    return Reply.text(texts.FORGOTTEN)
