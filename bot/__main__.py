"""`python -m bot` / `tertulia`: the command line."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

from bot import texts
from bot.config import Settings
from bot.logs import setup_logging

log = logging.getLogger("tertulia")

# Exit codes: 0 done, 1 something failed (a model, Telegram), 2 a usage or settings mistake.
EXIT_FAILED = 1
EXIT_USAGE = 2


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
    prefetch.add_argument(
        "--check",
        action="store_true",
        help="load each model and run its known-answer probes; exit code 1 if one fails",
    )
    sub.add_parser("status", help="print the engine status table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        # pydantic shows the offending values, and the token is a SecretStr: nothing leaks.
        print(f"tertulia: invalid settings\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    if problem := settings_problem(settings):
        print(f"tertulia: invalid settings\n{problem}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(settings)
    from bot import runtime

    command = args.command or ("polling" if settings.token else "console")
    try:
        if command == "console":
            runtime.run_async(runtime.run_console(settings, hint=args.command is None))
        elif command in ("polling", "webhook"):
            return run_telegram(settings, command)
        elif command == "prefetch":
            return prefetch(settings, args.check)
        elif command == "status":
            from bot.prefetch import engine_status
            from bot.status_view import status_lines

            print("\n".join(status_lines(runtime.run_async(engine_status(settings)))))
    except KeyboardInterrupt:
        # Ctrl+C before the signal handlers are in place (starting up): nothing to finish.
        return 0
    return 0


def settings_problem(settings: Settings) -> str | None:
    """Checks that need the task table, which the settings module does not import."""
    from bot.engine.registry import SPECS

    unknown = [key for key in settings.preload if key not in SPECS]
    if unknown:
        return f"PRELOAD names unknown tasks: {', '.join(unknown)} (known: {', '.join(SPECS)})"
    return generation_problem(settings)


def generation_problem(settings: Settings) -> str | None:
    """GENERATION_<KEY> must pass the task's own parameter checks, as a caller's would."""
    from bot.engine.errors import InvalidInput
    from bot.engine.registry import SPECS, create_task

    for key in SPECS:
        if generation := settings.generation_for(key):
            try:
                create_task(key).parse_params(generation)
            except InvalidInput as exc:
                return f"GENERATION_{key.upper()}: {exc}"
    return None


def run_telegram(settings: Settings, mode: str) -> int:
    """Run the bot; a start that fails says why in one line (the traceback at DEBUG)."""
    from telegram.error import TelegramError

    from bot import runtime

    if not settings.token:
        print(texts.CONSOLE_TELEGRAM_HINT, file=sys.stderr)
        return EXIT_USAGE
    if mode == "webhook" and (problem := runtime.check_webhook_settings(settings)):
        print(f"tertulia: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        runtime.run_telegram(settings, mode)
    except TelegramError as exc:
        log.critical(
            "could not run the Telegram bot (TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL?): %s: %s",
            type(exc).__name__,
            exc,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return EXIT_FAILED
    return 0


def prefetch(settings: Settings, check: bool) -> int:
    """Download the models, or with `check` load each and probe it; non-zero if any failed."""
    from rich.console import Console
    from rich.table import Table

    from bot import runtime
    from bot.prefetch import check_models, download_models

    # Piped or in `docker logs`, rich would wrap the table at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    if not check:
        table = Table("task", "model", "result")
        failed = False
        for key, model, outcome in download_models(settings):
            table.add_row(key, model, outcome)
            failed |= outcome.startswith("error")
        console.print(table)
        return EXIT_FAILED if failed else 0
    rows = runtime.run_async(check_models(settings))
    table = Table()
    for column in ("task", "model", "probe", "expected", "got", "load s", "MB", "result"):
        table.add_column(column, overflow="fold")  # a model's folder is never cut short
    shown = ""
    for row in rows:
        # A model's name and load figures once, on its first probe.
        first = row.task != shown
        shown = row.task
        table.add_row(
            row.task,
            row.model if first else "",
            row.probe,
            row.expected,
            row.got,
            f"{row.load_seconds:.2f}" if first else "",
            f"{row.bytes / 2**20:.1f}" if first else "",
            row.outcome,
        )
    console.print(table)
    wrong = [f"{row.task}: {row.probe}" for row in rows if row.outcome != "ok"]
    if wrong:
        console.print(f"{len(wrong)} of {len(rows)} probes failed: {', '.join(wrong)}")
    return EXIT_FAILED if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
