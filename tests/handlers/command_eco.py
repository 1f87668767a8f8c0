"""/eco <texto>: a command that exists only in the tests, added the way any command is added.

It is this handler module plus one row of the table (and its texts, as every command has in
`bot/texts.py`); `install` puts both in place for one test.
"""

from __future__ import annotations

import pytest

from bot import texts
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers import commands
from handlers.arguments import target_text, usage

ROW = commands.Command("eco", "tests.handlers.command_eco", aliases=("repite",), button_row=2)
TEXTS = texts.CommandTexts(
    menu="Repetir un texto",
    usage="/eco <texto>",
    example="/eco Hola, mundo",
    button="🔊 Eco",
)
REPLY_MARK = "🔊"


async def handle(request: Request, services: Services) -> Reply:
    """Says the text back, or the usage message derived from its texts when there is none."""
    text = target_text(request)
    if not text:
        return usage("eco")
    return Reply.text(f"{REPLY_MARK} {escape(text)}")


def install(monkeypatch: pytest.MonkeyPatch, row: commands.Command = ROW) -> None:
    """Adds the row to the end of the table and its texts to bot/texts.py, for one test."""
    monkeypatch.setattr(commands, "COMMANDS", (*commands.COMMANDS, row))
    monkeypatch.setitem(texts.COMMAND_TEXTS, row.name, TEXTS)
