"""Putting the pieces together for each way of running Tertulia."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.config import Settings
from bot.engine import Engine, EngineError
from bot.engine.registry import TASK_KEYS, create_task
from bot.services import Services
from bot.store import ChatStore

log = logging.getLogger(__name__)


def open_services(settings: Settings) -> Services:
    """Engine and store for a run; old reading texts are purged on the way in."""
    store = ChatStore(settings.database_path)
    if settings.data_retention_days:
        removed = store.purge(settings.data_retention_days)
        if removed:
            log.info("purged %d stored texts older than %d days", removed,
                     settings.data_retention_days)
    return Services(settings=settings, engine=Engine(settings), store=store)


async def close_services(services: Services) -> None:
    await services.engine.close()
    services.store.close()


@contextlib.asynccontextmanager
async def running_services(settings: Settings) -> AsyncIterator[Services]:
    services = open_services(settings)
    try:
        if settings.preload:
            await services.engine.preload()
        yield services
    finally:
        await close_services(services)


async def run_console(settings: Settings, stream: Any = None, hint: bool = False) -> None:
    """The terminal chat; `hint` says how to connect Telegram (when no token is set)."""
    from bot.console import ConsoleChat

    async with running_services(settings) as services:
        chat = ConsoleChat(services)
        if hint:
            chat.print(texts.CONSOLE_TELEGRAM_HINT)
        interactive = stream is None and sys.stdin.isatty()
        await chat.run(stream or sys.stdin, prompt=interactive)


def run_telegram(settings: Settings, mode: str) -> None:
    """Polling or webhook until SIGINT/SIGTERM; work in flight finishes before exit."""
    from bot.telegram_app import TelegramBot

    services = open_services(settings)
    bot = TelegramBot(services)

    async def on_start(_: Any) -> None:
        await bot._post_init(bot.application)
        if settings.preload:
            await services.engine.preload()

    async def on_shutdown(_: Any) -> None:
        await close_services(services)

    bot.application.post_init = on_start
    bot.application.post_shutdown = on_shutdown
    if mode == "webhook":
        if not settings.webhook_url:
            raise SystemExit("WEBHOOK_URL is required in webhook mode")
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        bot.application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=settings.webhook_url,
            secret_token=secret,
            drop_pending_updates=False,
        )
    else:
        bot.application.run_polling(drop_pending_updates=False)


@dataclass
class CheckRow:
    task: str
    model: str
    load_seconds: float
    bytes: int
    outcome: str


async def check_models(settings: Settings, keys: list[str] | None = None) -> list[CheckRow]:
    """Load each model and run a one-line smoke inference (prefetch --check)."""
    rows = []
    engine = Engine(settings)
    try:
        for key in keys or list(TASK_KEYS):
            slot_status: dict[str, Any]
            started = time.perf_counter()
            try:
                await engine.run(key, [create_task(key).smoke_input()])
                outcome = "ok"
            except EngineError as exc:
                outcome = f"error: {exc}"
            slot_status = engine.status()["models"][key]
            rows.append(CheckRow(key, settings.model_for(key),
                                 slot_status["load_seconds"] or time.perf_counter() - started,
                                 slot_status["bytes"], outcome))
            engine.unload(key)
    finally:
        await engine.close()
    return rows


def download_models(settings: Settings) -> list[tuple[str, str, str]]:
    """Fetch every configured hub model into the Hugging Face cache, with progress bars."""
    from pathlib import Path

    from huggingface_hub import snapshot_download

    results = []
    for key in TASK_KEYS:
        model_id = settings.model_for(key)
        if Path(model_id).expanduser().is_dir():
            results.append((key, model_id, "local folder"))
            continue
        try:
            path = snapshot_download(
                model_id,
                allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.spm",
                                "*.codes", "*.bin", "merges.txt", "vocab.*"],
            )
            results.append((key, model_id, f"ok: {path}"))
        except Exception as exc:
            results.append((key, model_id, f"error: {type(exc).__name__}: {exc}"[:200]))
    return results


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)
