"""Button presses: "<command>:<id>" runs that command on the text saved under the id."""

from __future__ import annotations

import dataclasses

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers.commands import button_names, handler_for


async def handle(request: Request, services: Services) -> Reply:
    """Runs the button's command on its saved text, as if the user had typed it."""
    parsed = parse_action(request.action or "")
    if parsed is None:
        return Reply.text(texts.ERROR_EXPIRED_BUTTON)
    command, text_id = parsed
    saved = await services.store.get_text(request.chat_id, text_id)
    handler = handler_for(command)
    if saved is None or handler is None:
        return Reply.text(texts.ERROR_EXPIRED_BUTTON)
    as_command = dataclasses.replace(request, command=command, text=saved, action=None)
    return await handler(as_command, services)


def parse_action(action: str) -> tuple[str, int] | None:
    """("traducir", 17) from "traducir:17"; None for anything malformed or unknown."""
    command, _, number = action.partition(":")
    if command not in button_names() or not (number.isascii() and number.isdigit()):
        return None
    return command, int(number)
