"""Logging: text or JSON lines, and the bot token scrubbed from everything that is printed.

The formatter scrubs every log line; `setup_logging` also routes what Python and the libraries
print on their own (uncaught tracebacks, warnings, transformers' and huggingface_hub's messages)
through it, and wraps stdout and stderr so that anything else written there is scrubbed as well.

In the console the terminal is the chat, so the logs go to a file in DATA_DIR instead (unless
LOG_LEVEL=DEBUG); only a line saying why the console stopped still reaches the terminal.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from bot.config import Settings

REDACTED = "[TOKEN]"
# Shorter secrets would blank out ordinary words; Telegram tokens are ~46 characters.
MIN_SECRET_LENGTH = 8

LOG_FILE_NAME = "tertulia.log"
# The libraries that fetch and load models: they warn on every load (and the hub on every retry)
# about things the bot reports itself, in its own words.
MODEL_LIBRARIES = ("transformers", "huggingface_hub", "torch", "tokenizers", "safetensors")
# Distinct library warnings remembered for "once"; past it they may show once more.
SEEN_WARNINGS_LIMIT = 1000

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


class BriefFormatter(ScrubbingFormatter):
    """One line for the console's terminal: the message, and where the details are."""

    def __init__(self, secrets: list[str], log_file: Path) -> None:
        super().__init__(secrets, as_json=False)
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f": {record.exc_info[1]}"
        return self.scrub(f"tertulia: {message} (details in {self.log_file})")


class LibraryWarnings(logging.Filter):
    """The model libraries' messages at WARNING at most, and each warning once per process.

    `level` is the handler's own: it was checked before this filter lowered the record's.
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__()
        self.level = level
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        library = record.name.split(".", 1)[0]
        if library not in MODEL_LIBRARIES and record.name != "py.warnings":
            return True
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        if record.levelno < self.level:
            return False
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.getMessage())
        if key in self.seen:
            return False
        if len(self.seen) >= SEEN_WARNINGS_LIMIT:
            self.seen.clear()
        self.seen.add(key)
        return True


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


def console_log_file(settings: Settings) -> Path | None:
    """Where the console logs: a file in DATA_DIR, or the terminal (None) at LOG_LEVEL=DEBUG."""
    return None if settings.log_level == "DEBUG" else settings.data_dir / LOG_FILE_NAME


def setup_logging(
    settings: Settings, stream: TextIO | None = None, log_file: Path | None = None
) -> Path | None:
    """Configure the root logger once, from LOG_LEVEL and LOG_FORMAT, and scrub all output.

    With `log_file` the logs, and whatever else is written to stderr, go to that file; returns
    the file in use (None when it cannot be written, and the logs stay on stderr).
    """
    secrets = secret_variants(settings.token)
    if settings.webhook_secret:
        secrets.append(settings.webhook_secret.get_secret_value())
    formatter = ScrubbingFormatter(secrets, settings.log_format == "json")
    if stream is None:
        sys.stdout = ScrubbingStream(_unwrapped(sys.stdout), formatter.secrets)  # type: ignore[assignment]
        sys.stderr = ScrubbingStream(_unwrapped(sys.stderr), formatter.secrets)  # type: ignore[assignment]
    handlers: list[logging.Handler] = []
    file_stream, problem = _open_log_file(log_file) if log_file else (None, "")
    if file_stream is not None and log_file is not None:
        terminal = logging.StreamHandler(sys.stderr)
        terminal.setLevel(logging.CRITICAL)  # why the console stopped, in one line
        terminal.setFormatter(BriefFormatter(secrets, log_file))
        handlers.append(terminal)
        sys.stderr = ScrubbingStream(file_stream, formatter.secrets)  # type: ignore[assignment]
    handler = logging.StreamHandler(file_stream or stream or sys.stderr)
    handler.setFormatter(formatter)
    handlers.append(handler)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for new in handlers:
        new.addFilter(LibraryWarnings(new.level))
        root.addHandler(new)
    root.setLevel(settings.log_level.upper())
    if problem:
        log.warning("cannot write the log file %s (%s): logging to stderr", log_file, problem)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    route_library_output()
    return log_file if file_stream is not None else None


def _open_log_file(path: Path) -> tuple[TextIO | None, str]:
    """The log file opened for appending, line by line; or None and why not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8", buffering=1), ""
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__


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
    # huggingface_hub adds a handler of its own too, and also propagates: every warning showed
    # twice. Its own progress bars go; a progress bar the bot draws passes a tqdm class of its own.
    from huggingface_hub.utils import disable_progress_bars

    hub = logging.getLogger("huggingface_hub")
    for handler in list(hub.handlers):
        hub.removeHandler(handler)
    hub.propagate = True
    disable_progress_bars()


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
