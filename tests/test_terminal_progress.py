"""Progress on a terminal: rewritten in place on a TTY, throttled lines when piped."""

from __future__ import annotations

import io
import time

import pytest
import torch

from bot import texts
from bot.console import ConsoleChat
from bot.services import Services
from bot.terminal_progress import ERASE_LINE, TerminalProgress, rest_of

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


class Writes(io.StringIO):
    """A pipe that remembers each write, to see what came out when."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_a_growing_answer_prints_only_what_is_new_and_replaces_the_download_line() -> None:
    out = Terminal()
    progress = TerminalProgress(out)
    progress.show(NOTICE)
    progress.grow("<b>Verde que</b> te")
    progress.grow("<b>Verde que</b> te quiero")
    progress.grow("<b>Verde que</b> te quiero")  # unchanged: nothing written
    progress.show(NOTICE)  # progress never interrupts the answer
    progress.clear()

    plain = "⏳ Preparando el modelo de poemas (primera vez, ~12 MB)…"
    assert out.getvalue() == f"{ERASE_LINE}{plain}{ERASE_LINE}Verde que te quiero"
    assert progress.grown == "Verde que te quiero"


def test_a_rewritten_answer_starts_on_a_new_line_and_the_rest_is_what_is_missing() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out)
    progress.grow("Resumen: uno.")
    progress.grow("Resumen: otro.")  # a later round wrote it anew
    assert out.getvalue() == "Resumen: uno.\nResumen: otro."
    assert rest_of("Resumen: otro. Y más.", progress.grown) == " Y más."
    assert rest_of("Distinto", progress.grown) == "\nDistinto"


async def test_the_console_prints_a_poem_as_it_grows_and_then_only_the_rest(
    services: Services,
) -> None:
    await services.engine.run("poem", ["carga el modelo"], max_new_tokens=1)
    model = services.engine._cache.slots["poem"].queue.lm.model  # type: ignore[attr-defined]
    if not isinstance(model, torch.nn.Module):
        pytest.skip("the step hook needs the torch runtime")
    model.register_forward_hook(lambda *_: time.sleep(0.05))  # a poem written at a human pace
    out = Writes()
    chat = ConsoleChat(services, out=out)

    await chat.handle_line("/poema Verde que te quiero verde")

    growing = [w for w in out.writes if not w.endswith("\n\n")]
    assert len(growing) >= 2, "the poem was not printed as it was written"
    poem = "".join(growing)
    assert poem.startswith("Verde que te quiero verde")
    assert out.getvalue().startswith(poem)
    assert out.getvalue().count("Verde que te quiero verde") == 1  # the rest, never it all again
    assert texts.POEM_AGAIN in out.getvalue()[len(poem) :]
