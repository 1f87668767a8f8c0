"""The console adapter: a chat in the terminal over the same handlers Telegram users reach."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot import texts
from bot.formatting import html_to_plain
from bot.request import Button, Reply, Request
from bot.services import Services
from bot.telegram_app import parse_command
from handlers import dispatch

CONSOLE_CHAT_ID = 1
CONSOLE_USER_ID = 1


class ConsoleChat:
    """Reads lines, prints replies; buttons become numbered choices the next line can pick."""

    def __init__(self, services: Services, out: TextIO = sys.stdout) -> None:
        self.services = services
        self.out = out
        self.choices: list[Button] = []

    def request_for(self, line: str) -> Request:
        """A typed line as a Request: a number picks a button, else a command or plain text."""
        stripped = line.strip()
        if stripped.isdigit() and self.choices:
            index = int(stripped) - 1
            if 0 <= index < len(self.choices):
                return Request(CONSOLE_CHAT_ID, CONSOLE_USER_ID, action=self.choices[index].data)
        command, text = parse_command(stripped, self.services.bot_username)
        return Request(CONSOLE_CHAT_ID, CONSOLE_USER_ID, command=command or None, text=text)

    async def handle_line(self, line: str) -> None:
        if not line.strip():
            return
        stripped = line.strip()
        if stripped.isdigit() and self.choices and not (
            0 < int(stripped) <= len(self.choices)
        ):
            self.print(texts.CONSOLE_BAD_CHOICE)
            return
        reply = await dispatch(self.request_for(line), self.services)
        self.render(reply)

    def render(self, reply: Reply) -> None:
        for part in reply.parts:
            self.print(html_to_plain(part))
        self.choices = [button for row in reply.buttons for button in row]
        if self.choices:
            options = "  ".join(f"[{i}] {b.label}" for i, b in enumerate(self.choices, 1))
            self.print(f"{options}\n{texts.CONSOLE_CHOOSE}")
        if reply.file is not None:
            self.print(f"📎 {reply.file.name} ({len(reply.file.content)} bytes)")

    def print(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n\n")
        self.out.flush()

    async def run(self, stream: TextIO = sys.stdin, prompt: bool = True) -> None:
        """Serve lines until end of input; works piped as well as interactively."""
        self.print(texts.CONSOLE_INTRO)
        while True:
            if prompt:
                self.out.write("> ")
                self.out.flush()
            line = await asyncio.to_thread(stream.readline)
            if not line:
                break
            await self.handle_line(line)
