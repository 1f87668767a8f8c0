"""Logging: text or JSON lines, and the bot token scrubbed from everything that is printed.

The formatter scrubs every log line; `setup_logging` also routes what Python and the libraries
print on their own (uncaught tracebacks, warnings, transformers' messages) through it, and wraps
stdout and stderr so that anything else written there is scrubbed as well.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

from bot.config import Settings

REDACTED = "[TOKEN]"
# Shorter secrets would blank out ordinary words; Telegram tokens are ~46 characters.
MIN_SECRET_LENGTH = 8

log = logging.getLogger("tertulia")


def secret_variants(token: str | None) -> list[str]:
    """The token and its secret half: URLs may carry it percent-encoded (`123%3AABC`)."""
    if not token:
        return []
    return [token, token.partition(":")[2]]


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by REDACTED."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class ScrubbingFormatter(logging.Formatter):
    """Formats a record (text or JSON) and removes every secret from the result."""

    def __init__(self, secrets: list[str], as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        # Longest first, so the whole token goes before its secret half.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        if self.as_json:
            payload = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            payload.update(getattr(record, "fields", {}))
            if record.exc_info:
                payload["traceback"] = self.formatException(record.exc_info)
            text = json.dumps(payload, ensure_ascii=False, default=str)
        else:
            text = super().format(record)
            fields = getattr(record, "fields", None)
            if fields:
                text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return self.scrub(text)

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)


class ScrubbingStream:
    """A text stream that scrubs secrets before writing: the net under print() and tqdm."""

    def __init__(self, stream: TextIO, secrets: list[str]) -> None:
        self.stream = stream
        self.secrets = secrets

    def write(self, text: str) -> int:
        self.stream.write(scrub(text, self.secrets))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _unwrapped(stream: TextIO) -> TextIO:
    return stream.stream if isinstance(stream, ScrubbingStream) else stream


def setup_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Configure the root logger once, from LOG_LEVEL and LOG_FORMAT, and scrub all output."""
    secrets = secret_variants(settings.token)
    if settings.webhook_secret:
        secrets.append(settings.webhook_secret.get_secret_value())
    formatter = ScrubbingFormatter(secrets, settings.log_format == "json")
    if stream is None:
        sys.stdout = ScrubbingStream(_unwrapped(sys.stdout), formatter.secrets)  # type: ignore[assignment]
        sys.stderr = ScrubbingStream(_unwrapped(sys.stderr), formatter.secrets)  # type: ignore[assignment]
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    route_library_output()


def route_library_output() -> None:
    """Send what Python and the libraries print themselves through the scrubbing handler."""
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    # transformers logs through a handler of its own that bypasses ours, and draws progress
    # bars on stderr that would break JSON lines; the engine imports it anyway.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_default_handler()
    hf_logging.enable_propagation()
    hf_logging.disable_progress_bar()


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """An exception nobody caught: logged (so scrubbed, and JSON when asked) instead of printed."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.critical("uncaught exception: %s", kind.__name__, exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """The same for threads (the engine's workers, the console's reader)."""
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread else "?"
    log.critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
