"""Logging: text or JSON lines, and the bot token scrubbed from everything that is printed."""

from __future__ import annotations

import json
import logging
import sys
import time

from bot.config import Settings

REDACTED = "[TOKEN]"


class ScrubbingFormatter(logging.Formatter):
    """Formats a record (text or JSON) and removes every secret from the result."""

    def __init__(self, secrets: list[str], as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = [s for s in secrets if s]
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
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def setup_logging(settings: Settings, stream: object = None) -> None:
    """Configure the root logger once, from LOG_LEVEL and LOG_FORMAT."""
    secrets = [settings.token or ""]
    if settings.webhook_secret:
        secrets.append(settings.webhook_secret.get_secret_value())
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(ScrubbingFormatter(secrets, settings.log_format == "json"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
