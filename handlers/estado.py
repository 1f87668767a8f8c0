"""/estado: the engine's figures (device, memory, each model), for ADMIN_USERS and the console."""

from __future__ import annotations

from bot import texts
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from bot.status_view import status_lines


async def handle(request: Request, services: Services) -> Reply:
    """Shows the engine status to administrators; everyone else is told it is not for them."""
    if not (request.operator or request.user_id in services.settings.admin_users):
        return Reply.text(texts.ADMIN_ONLY)
    lines = status_lines(services.engine.status())
    return Reply.text("\n".join([texts.STATUS_TITLE, *(escape(line) for line in lines)]))
