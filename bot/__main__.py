"""`python -m bot` / `tertulia`: the command line."""

from __future__ import annotations

import argparse
import sys

from bot import texts
from bot.config import Settings
from bot.logs import setup_logging


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tertulia",
        description="Tertulia: a Spanish-speaking Telegram assistant on Hugging Face models.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("console", help="chat in the terminal (reads standard input line by line)")
    sub.add_parser("polling", help="run the Telegram bot with long polling")
    sub.add_parser("webhook", help="run the Telegram bot behind a webhook (WEBHOOK_* settings)")
    prefetch = sub.add_parser("prefetch", help="download every configured model")
    prefetch.add_argument("--check", action="store_true",
                          help="load each model and run a one-line smoke inference")
    sub.add_parser("status", help="print the engine status table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings()
    setup_logging(settings)
    from bot import runtime

    command = args.command
    if command is None:
        command = "polling" if settings.token else "console"
        if command == "console":
            runtime.run_async(runtime.run_console(settings, hint=True))
            return 0
    if command == "console":
        runtime.run_async(runtime.run_console(settings))
    elif command in ("polling", "webhook"):
        if not settings.token:
            print(texts.CONSOLE_TELEGRAM_HINT, file=sys.stderr)
            return 2
        runtime.run_telegram(settings, command)
    elif command == "prefetch":
        return prefetch(settings, args.check)
    elif command == "status":
        from bot.engine import Engine
        from bot.status_view import status_lines

        engine = Engine(settings)
        print("\n".join(status_lines(engine.status())))
    return 0


def prefetch(settings: Settings, check: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    from bot import runtime

    console = Console()
    if not check:
        table = Table("task", "model", "result")
        failed = False
        for key, model, outcome in runtime.download_models(settings):
            table.add_row(key, model, outcome)
            failed |= outcome.startswith("error")
        console.print(table)
        return 1 if failed else 0
    rows = runtime.run_async(runtime.check_models(settings))
    table = Table("task", "model", "load s", "MB", "result")
    for row in rows:
        table.add_row(row.task, row.model, f"{row.load_seconds:.2f}",
                      f"{row.bytes / 2**20:.1f}", row.outcome)
    console.print(table)
    return 0 if all(row.outcome == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
