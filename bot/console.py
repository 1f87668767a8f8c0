"""The console adapter: a chat in the terminal over the same handlers Telegram users reach.

The console is its operator's own chat: its requests are marked as the operator's, so they are
never rate-limited or refused, and /estado answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot import texts
from bot.chat_members import OperatorIsAdministrator
from bot.formatting import html_to_plain
from bot.progress import reporting_to
from bot.request import Button, Reply, Request, parse_command
from bot.services import Services
from bot.store import StoreError
from bot.terminal_progress import TerminalProgress, rest_of
from handlers import dispatch, pregunta

if TYPE_CHECKING:
    from bot.runtime import Shutdown

CONSOLE_CHAT_ID = 1
CONSOLE_USER_ID = 1


class ConsoleChat:
    """Reads lines, prints replies; buttons become numbered choices the next line can pick."""

    def __init__(
        self, services: Services, out: TextIO | None = None, log_file: Path | None = None
    ) -> None:
        self.services = services
        services.members = OperatorIsAdministrator()
        self.out = out or sys.stdout
        self.log_file = log_file  # named in the intro, so the operator knows where to look
        self.choices: list[Button] = []

    def picked(self, line: str) -> int | None:
        """The number typed while buttons are on offer (1-based), else None."""
        stripped = line.strip()
        return int(stripped) if stripped.isdecimal() and self.choices else None

    def request_for(self, line: str) -> Request:
        """A typed line as a Request: a number picks a button, else a command or plain text."""
        number = self.picked(line)
        if number is not None and 0 < number <= len(self.choices):
            return self.request(action=self.choices[number - 1].data)
        command, text = parse_command(line.strip(), self.services.bot_username)
        return self.request(command=command or None, text=text)

    def request(self, **fields: Any) -> Request:
        """A request from the operator's own chat."""
        return Request(
            CONSOLE_CHAT_ID, CONSOLE_USER_ID, operator=True, author=texts.CONSOLE_AUTHOR, **fields
        )

    async def handle_line(self, line: str) -> None:
        """Answer one typed line; a line cancelled by a stop says so instead of answering."""
        if not line.strip():
            return
        number = self.picked(line)
        if number is not None and not 0 < number <= len(self.choices):
            self.print(texts.CONSOLE_BAD_CHOICE)
            return
        if line.strip().isdecimal() and not self.choices:
            # A menu of an earlier session, or one already answered: a number alone is never
            # meant as a text or a question.
            self.print(texts.CONSOLE_NO_MENU)
            return
        progress = TerminalProgress(self.out, end="\n\n")  # a model's first download
        try:
            with reporting_to(progress):
                reply = await dispatch(self.request_for(line), self.services)
        except asyncio.CancelledError:
            progress.clear()
            self.print(texts.SHUTTING_DOWN)  # the stop's grace period ran out
            raise
        progress.clear()
        self.render(reply, grown=progress.grown)

    def render(self, reply: Reply, grown: str = "") -> None:
        """Print a Reply; `grown` is the start of it already printed as it was written."""
        for index, part in enumerate(reply.parts):
            text = html_to_plain(part)
            self.print(rest_of(text, grown) if index == 0 and grown else text)
        self.choices = [button for row in reply.buttons for button in row]
        if self.choices:
            options = "  ".join(f"[{i}] {b.label}" for i, b in enumerate(self.choices, 1))
            self.print(f"{options}\n{texts.CONSOLE_CHOOSE}")
        if reply.file is not None:
            self.print(f"📎 {reply.file.name} ({len(reply.file.content)} bytes)")

    def print(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n\n")
        self.out.flush()

    async def prompt(self) -> str:
        """The prompt, naming question mode while it is on: plain lines are questions then."""
        try:
            asking = await pregunta.in_question_mode(self.request(), self.services)
        except StoreError:
            asking = False  # the next line will get the store's apology
        return texts.CONSOLE_PROMPT_QUESTIONS if asking else texts.CONSOLE_PROMPT

    async def run(
        self, stream: TextIO = sys.stdin, prompt: bool = True, shutdown: Shutdown | None = None
    ) -> None:
        """Serve lines until end of input or a stop; works piped as well as interactively.

        A line being answered when the stop comes gets the stop's grace period to finish.
        """
        self.print(texts.CONSOLE_INTRO)
        if self.log_file is not None:
            self.print(texts.CONSOLE_LOG_FILE.format(path=self.log_file))
        lines = read_lines(stream)
        stop: asyncio.Future[Any]
        if shutdown is not None:
            stop = asyncio.ensure_future(shutdown.requested.wait())
        else:
            stop = asyncio.get_running_loop().create_future()  # never done
        try:
            while True:
                if prompt:
                    self.out.write(await self.prompt())
                    self.out.flush()
                reading = asyncio.ensure_future(lines.get())
                await asyncio.wait({reading, stop}, return_when=asyncio.FIRST_COMPLETED)
                line = reading.result() if reading.done() else None
                if line is None:
                    reading.cancel()
                    return
                answering = asyncio.ensure_future(self.handle_line(line))
                await asyncio.wait({answering, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stop.done():
                    assert shutdown is not None
                    await shutdown.finish({answering})
                    return
                answering.result()
        finally:
            stop.cancel()


def read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines of `stream` as they arrive, then None, read by a daemon thread.

    A blocked read in a daemon thread does not hold the process when a signal stops it, as
    a read in the loop's executor would.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while we were reading
            loop.call_soon_threadsafe(queue.put_nowait, line)

    def read() -> None:
        for line in iter(stream.readline, ""):
            put(line)
        put(None)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return queue
