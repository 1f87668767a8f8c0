"""`python -m bot` / `tertulia`: the command line."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys

from pydantic import ValidationError

from bot import texts
from bot.config import Settings
from bot.logs import console_log_file, setup_logging

log = logging.getLogger("tertulia")

# Exit codes: 0 done, 1 something failed (a model, Telegram), 2 a usage or settings mistake.
EXIT_FAILED = 1
EXIT_USAGE = 2
# `prefetch` piped (a log): one progress line per download this often at most.
PIPED_PROGRESS_EVERY_S = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tertulia",
        description="Tertulia: a Spanish-speaking Telegram assistant on Hugging Face models.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("console", help="chat in the terminal (reads standard input line by line)")
    sub.add_parser("polling", help="run the Telegram bot with long polling")
    sub.add_parser("webhook", help="run the Telegram bot behind a webhook (WEBHOOK_* settings)")
    sub.add_parser(
        "ingress", help="receive updates into the Redis stream (polling, or WEBHOOK_URL's webhook)"
    )
    sub.add_parser("worker", help="answer updates from the Redis stream (start any number)")
    prefetch = sub.add_parser("prefetch", help="download every configured model")
    prefetch.add_argument(
        "--check",
        action="store_true",
        help="load each model and run its known-answer probes; exit code 1 if one fails",
    )
    sub.add_parser("status", help="print the engine status table")
    serve_models = sub.add_parser(
        "serve-models", help="deploy the model server on the Ray cluster at RAY_ADDRESS"
    )
    serve_models.add_argument(
        "--detach", action="store_true", help="deploy and exit, leaving the server running"
    )
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
    command = args.command or ("polling" if settings.token else "console")
    # The console's terminal is the chat: its logs go to a file (see bot/logs.py).
    log_file = setup_logging(
        settings, log_file=console_log_file(settings) if command == "console" else None
    )
    from bot import runtime

    try:
        if command == "console":
            runtime.run_async(
                runtime.run_console(settings, hint=args.command is None, log_file=log_file)
            )
        elif command in ("polling", "webhook"):
            return run_telegram(settings, command)
        elif command in ("ingress", "worker"):
            return run_scale_out(settings, command)
        elif command == "prefetch":
            return prefetch(settings, args.check)
        elif command == "status":
            from bot.status_view import status_lines

            if settings.engine_backend == "ray":
                from bot.engine.remote import remote_status as engine_status
            else:
                from bot.prefetch import engine_status
            try:
                print("\n".join(status_lines(runtime.run_async(engine_status(settings)))))
            except ConnectionError as exc:  # ENGINE_BACKEND=ray: no cluster or no model server
                print(f"tertulia: {exc}", file=sys.stderr)
                return EXIT_FAILED
        elif command == "serve-models":
            return run_model_server(settings, args.detach)
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
    if settings.engine_backend == "ray" and importlib.util.find_spec("ray") is None:
        return "ENGINE_BACKEND=ray needs Ray: pip install -e '.[scale]'"
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


def run_scale_out(settings: Settings, command: str) -> int:
    """`ingress` or `worker`: both need the token and REDIS_URL, where the stream lives."""
    from redis.exceptions import RedisError
    from telegram.error import TelegramError

    from bot import runtime
    from bot.store import StoreError
    from bot.update_stream import StreamError

    if not settings.token:
        print(texts.CONSOLE_TELEGRAM_HINT, file=sys.stderr)
        return EXIT_USAGE
    if not settings.redis_url:
        print(f"tertulia: REDIS_URL is required by `{command}`", file=sys.stderr)
        return EXIT_USAGE
    if command == "ingress":
        from bot.ingress import serve_ingress as serve

        if settings.webhook_url and (problem := runtime.check_webhook_settings(settings)):
            print(f"tertulia: {problem}", file=sys.stderr)
            return EXIT_USAGE
    else:
        from bot.worker import serve_worker as serve
    try:
        runtime.run_async(serve(settings))
    except StreamError as exc:
        print(f"tertulia: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (TelegramError, StoreError, RedisError, OSError) as exc:
        log.critical("could not run the %s: %s: %s", command, type(exc).__name__, exc)
        return EXIT_FAILED
    return 0


def run_model_server(settings: Settings, detach: bool) -> int:
    """`serve-models`: needs Ray (the `scale` extra) and a cluster at RAY_ADDRESS."""
    try:
        from bot.serve_models import serve_models
    except ImportError as exc:
        print(f"tertulia: serve-models needs Ray: pip install '.[scale]' ({exc})", file=sys.stderr)
        return EXIT_USAGE
    try:
        serve_models(settings, detach)
    except ConnectionError as exc:
        print(f"tertulia: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as exc:  # Serve could not start a replica
        log.critical("could not deploy the model server: %s", exc)
        return EXIT_FAILED
    return 0


def prefetch(settings: Settings, check: bool) -> int:
    """Download the models, or with `check` load each and probe it; non-zero if any failed."""
    from rich.console import Console
    from rich.table import Table

    from bot import runtime
    from bot.prefetch import CheckRow, check_line, check_models, download_line, download_models
    from bot.terminal_progress import TerminalProgress

    # A line per model as soon as it is done; a download's progress bar meanwhile (piped, a
    # line every few seconds instead).
    bar = TerminalProgress(sys.stdout, every=PIPED_PROGRESS_EVERY_S)

    def say(line: str) -> None:
        bar.clear()
        print(line, flush=True)

    if not check:
        failed = False
        for key, model, outcome in download_models(settings, lambda e: bar.show(download_line(e))):
            say(f"{key}  {model}  {outcome}")
            failed |= outcome.startswith("error")
        if not failed:  # the copies RUNTIME runs instead of torch, built once here
            from bot.engine.runtimes.prefetch import convert_models

            for key, model, outcome in convert_models(settings):
                say(f"{key}  {model}  {outcome}")
        return EXIT_FAILED if failed else 0

    def checked(model_rows: list[CheckRow]) -> None:
        say(check_line(model_rows))

    rows = runtime.run_async(
        check_models(settings, report=lambda e: bar.show(download_line(e)), checked=checked)
    )
    # Piped or in `docker logs`, rich would wrap the table at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=200)
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
