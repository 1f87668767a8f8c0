"""/start and /ayuda: every command with an example, in valid Telegram HTML."""

from __future__ import annotations

from bot import texts
from tests.handlers.conftest import Chat, plain


async def test_help_lists_every_command_of_the_menu(chat: Chat) -> None:
    for command in ("start", "ayuda", "help"):
        reply = await chat.command(command)
        for name in texts.COMMAND_MENU:
            assert f"/{name}" in plain(reply)


async def test_unknown_command_points_to_help(chat: Chat) -> None:
    reply = await chat.command("bailar", "un tango")
    assert "/ayuda" in plain(reply)


async def test_every_command_without_text_answers_with_usage_and_example(chat: Chat) -> None:
    for command in texts.USAGE_FORMS:
        if command == "pregunta":
            continue  # /pregunta alone starts question mode (see test_pregunta)
        reply = await chat.command(command)
        assert plain(reply).startswith("Uso: "), command
        assert texts.EXAMPLES[command] in plain(reply)
