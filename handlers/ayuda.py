"""/start and /ayuda: what the bot does and every command with an example."""

from __future__ import annotations

from bot import texts
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.commands import menu


async def handle(request: Request, services: Services) -> Reply:
    """Greets and lists every command of the table with a one-line example."""
    lines = [texts.WELCOME, "", texts.HELP_TITLE]
    for command, description in menu():
        example = texts.COMMAND_TEXTS[command].example
        line = f"/{command} — {escape(description)}"
        if example:
            line += f"\n   <code>{escape(example)}</code>"
        lines.append(line)
    lines += ["", texts.HELP_FOOTER]
    return Reply.text("\n".join(lines))
