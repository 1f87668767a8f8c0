"""/olvidar: delete everything stored for the chat (reading text, question mode, buttons)."""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request
from bot.services import Services


async def handle(request: Request, services: Services) -> Reply:
    """Forgets the chat and says so."""
    await services.store.forget_chat(request.chat_id)
    return Reply.text(texts.FORGOTTEN)
