"""Button presses: "<command>:<id>" runs that command on the text saved under the id."""

from __future__ import annotations

import dataclasses

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import read_link, titled
from handlers.commands import button_names, handler_for, offered_rows

READS_LINKS_ITSELF = frozenset({"resumir", "traducir", "contexto"})
"""Commands that read a lone link themselves; for the rest the button reads the page first."""


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
    offered_under_text = any(command in row for row in offered_rows())
    if command in READS_LINKS_ITSELF or not offered_under_text:
        as_command = dataclasses.replace(request, command=command, text=saved, action=None)
        return await handler(as_command, services)
    target = await read_link(saved, services)  # a pasted link: the page, not its address
    if target.problem:
        return target.problem
    as_command = dataclasses.replace(request, command=command, text=target.text, action=None)
    return titled(await handler(as_command, services), target)


def parse_action(action: str) -> tuple[str, int] | None:
    """("traducir", 17) from "traducir:17"; None for anything malformed or unknown."""
    command, _, number = action.partition(":")
    if command not in button_names() or not (number.isascii() and number.isdigit()):
        return None
    return command, int(number)
