"""Progress on a terminal: rewritten in place on a TTY, throttled lines when piped."""

from __future__ import annotations

import io

from bot.terminal_progress import ERASE_LINE, TerminalProgress

NOTICE = "⏳ Preparando el modelo de <b>poemas</b> (primera vez, ~12 MB)…"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_line_is_rewritten_and_taken_away() -> None:
    out = Terminal()
    progress = TerminalProgress(out)
    progress.show(NOTICE)
    progress.show(f"{NOTICE}\n███░░░░░░░ 30 %")
    progress.show(f"{NOTICE}\n███░░░░░░░ 30 %")  # unchanged: nothing written
    progress.clear()

    plain = "⏳ Preparando el modelo de poemas (primera vez, ~12 MB)…"
    assert out.getvalue() == (f"{ERASE_LINE}{plain}{ERASE_LINE}{plain} ███░░░░░░░ 30 %{ERASE_LINE}")
    assert "\n" not in out.getvalue()


def test_piped_each_text_is_a_line_at_most_every_few_seconds() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, every=60.0, end="\n\n")
    progress.show(NOTICE)
    progress.show(f"{NOTICE}\n█░░░░░░░░░ 10 %")  # too soon after the first: skipped
    progress.clear()  # nothing to take away from a pipe
    progress.show("otra descarga")  # a new one starts at once

    assert out.getvalue() == (
        "⏳ Preparando el modelo de poemas (primera vez, ~12 MB)…\n\notra descarga\n\n"
    )
