"""The one table of commands: a command is a handler module plus one row here.

Its Spanish texts (menu description, usage form, example, button label) live under its name in
`bot.texts.COMMAND_TEXTS`. The help, the phones' command menu, the usage lines and the buttons
under a plain message are all derived from this table, so nothing else lists commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import texts
from bot.request import Reply, Request
from bot.services import Services

Handler = Callable[[Request, Services], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """One row: what the user types, the module whose `handle` answers, and its buttons."""

    name: str
    module: str
    """Dotted module path; imported on first use, so a command costs nothing until it runs."""
    aliases: tuple[str, ...] = ()
    """Other names that run it; they stay out of the menu and the help."""
    button_row: int | None = None
    """Row (1 at the top) of its button under a plain message; None offers no button there."""
    own_buttons: bool = False
    """Its own replies carry buttons that run it again on a saved text (poema's «Otro»)."""

    @property
    def runs_from_buttons(self) -> bool:
        """Whether a button's saved text may be run through it."""
        return self.button_row is not None or self.own_buttons


# Table order is the order of the menu and of /ayuda; within a row, of the buttons.
COMMANDS: tuple[Command, ...] = (
    Command("ayuda", "handlers.ayuda", aliases=("start", "help")),
    Command("traducir", "handlers.traducir", button_row=1),
    Command("resumir", "handlers.resumir", button_row=1),
    Command("contexto", "handlers.contexto", button_row=4),
    Command("pregunta", "handlers.pregunta"),
    Command("fin", "handlers.pregunta"),
    Command("olvidar", "handlers.olvidar"),
    Command("clasificar", "handlers.clasificar", button_row=3),
    Command("sentimiento", "handlers.sentimiento", button_row=2),
    Command("idioma", "handlers.idioma", button_row=2),
    Command("completar", "handlers.completar"),
    Command("poema", "handlers.poema", own_buttons=True),
    Command("pos", "handlers.pos", button_row=3),
    Command("transcribir", "handlers.transcribir"),
    Command("estado", "handlers.estado"),
    Command("autotraducir", "handlers.autotraducir"),
    Command("memoria", "handlers.memoria"),
    Command("resumen_chat", "handlers.resumen_chat"),
    Command("tokens", "handlers.tokens"),
)


def find_command(name: str) -> Command | None:
    """The row a typed name (or alias) belongs to."""
    for command in COMMANDS:
        if name == command.name or name in command.aliases:
            return command
    return None


def handler_for(name: str) -> Handler | None:
    """The `handle` coroutine that answers a typed name, or None for an unknown one."""
    command = find_command(name)
    if command is None:
        return None
    handle: Handler = importlib.import_module(command.module).handle
    return handle


def all_names() -> list[str]:
    """Every name a user can type, aliases included."""
    return [name for command in COMMANDS for name in (command.name, *command.aliases)]


def menu() -> list[tuple[str, str]]:
    """(name, description) of each command, as /ayuda and the phones' menu list them."""
    return [(command.name, texts.COMMAND_TEXTS[command.name].menu) for command in COMMANDS]


def offered_rows() -> list[list[str]]:
    """The commands offered as buttons under a plain message, row by row."""
    rows: dict[int, list[str]] = {}
    for command in COMMANDS:
        if command.button_row is not None:
            rows.setdefault(command.button_row, []).append(command.name)
    return [rows[number] for number in sorted(rows)]


def button_names() -> list[str]:
    """The commands a button may name; any other is a stale or forged button."""
    return [command.name for command in COMMANDS if command.runs_from_buttons]
