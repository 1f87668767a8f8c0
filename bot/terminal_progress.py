"""Progress on a terminal (the console chat, `prefetch`): one line that keeps changing.

On a terminal the line is rewritten in place with a carriage return and taken away when what
it waited for is ready. Piped (a file, `docker logs`) nothing can be rewritten, so each text is
a line of its own, at most one every few seconds, and the log stays short.

An answer that grows as it is written (`grow`) is printed as it comes, each time only what is
new, on a terminal and piped alike; the console then prints only the rest of the answer.
"""

from __future__ import annotations

import time
from typing import TextIO

from bot.formatting import html_to_plain

ERASE_LINE = "\r\033[K"


class TerminalProgress:
    """A ProgressSink (bot/progress.py) writing to `out`; `end` follows each piped line."""

    def __init__(self, out: TextIO, every: float = 2.0, end: str = "\n") -> None:
        self.out = out
        self.every = every
        self.end = end
        self.tty = _isatty(out)
        self._line: str | None = None
        self._written_at: float | None = None
        self._on_screen = False
        self.grown = ""
        """The answer printed so far, as plain text."""

    def show(self, text: str) -> None:
        if self.grown:
            return  # progress never interrupts an answer being written
        parts = html_to_plain(text).splitlines()
        line = " ".join(part.strip() for part in parts if part.strip())  # one line, always
        if line == self._line:
            return
        self._line = line
        if self.tty:
            self.out.write(ERASE_LINE + line)
            self._on_screen = True
        else:
            now = time.monotonic()
            if self._written_at is not None and now - self._written_at < self.every:
                return
            self._written_at = now
            self.out.write(line + self.end)
        self.out.flush()

    def grow(self, text: str) -> None:
        """Print what is new in the answer written so far (a rewritten one starts anew)."""
        plain = html_to_plain(text)
        if plain == self.grown:
            return
        if self._on_screen:  # a download's line gives way to the answer
            self.out.write(ERASE_LINE)
            self._on_screen = False
        self.out.write(rest_of(plain, self.grown))
        self.out.flush()
        self.grown = plain

    def clear(self) -> None:
        """Take the rewritten line away, so what comes next takes its place; the next text
        (another download's) is shown at once."""
        if self._on_screen:
            self.out.write(ERASE_LINE)
            self.out.flush()
            self._on_screen = False
        self._line = self._written_at = None


def rest_of(text: str, printed: str) -> str:
    """What is left to print of `text` after `printed` (part of an earlier version of it)."""
    if text.startswith(printed):
        return text[len(printed) :]
    return "\n" + text


def _isatty(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # no such method, or a closed stream
        return False
