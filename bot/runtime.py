"""Starting each way of running Tertulia (console, polling, webhook) and stopping it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot import texts
from bot.config import Settings
from bot.engine import Engine
from bot.services import Services
from bot.store import Store, StoreError, open_store

log = logging.getLogger(__name__)

# How long a stop waits for requests in flight before apologising for them: under the 10 s
# Docker waits between SIGTERM and SIGKILL.
SHUTDOWN_GRACE_S = 8.0


# A running bot purges texts past DATA_RETENTION_DAYS this often, not only at start.
PURGE_EVERY_S = 3600.0


async def open_services(settings: Settings) -> Services:
    """Engine and store for a run; old reading texts are purged on the way in."""
    store = await open_store(settings)
    try:
        await purge_old_texts(store, settings)
    except BaseException:
        await store.close()
        raise
    return Services(settings=settings, engine=Engine(settings), store=store)


async def purge_old_texts(store: Store, settings: Settings) -> int:
    """Delete reading texts and saved texts older than DATA_RETENTION_DAYS (0 keeps them)."""
    if not settings.data_retention_days:
        return 0
    removed = await store.purge(settings.data_retention_days)
    if removed:
        log.info("purged %d stored texts older than %d days", removed, settings.data_retention_days)
    return removed


async def purge_periodically(services: Services, every: float = PURGE_EVERY_S) -> None:
    """Keep purging while the bot runs, so retention holds for bots that never restart."""
    while True:
        await asyncio.sleep(every)
        try:
            await purge_old_texts(services.store, services.settings)
        except StoreError as exc:
            log.error("could not purge old texts: %s", exc)


async def close_services(services: Services) -> None:
    try:
        await services.engine.close()
    finally:
        await services.store.close()


@contextlib.asynccontextmanager
async def running_services(settings: Settings) -> AsyncIterator[Services]:
    services = await open_services(settings)
    try:
        if settings.preload:
            await services.engine.preload()
        yield services
    finally:
        await close_services(services)


# Stopping
@dataclass
class Shutdown:
    """SIGINT/SIGTERM as events: the first asks to stop, a second one stops waiting for work."""

    requested: asyncio.Event = field(default_factory=asyncio.Event)
    urgent: asyncio.Event = field(default_factory=asyncio.Event)

    def on_signal(self, signum: int) -> None:
        if self.requested.is_set():
            log.warning("second %s: not waiting for requests in flight", signal.strsignal(signum))
            self.urgent.set()
        else:
            log.info("%s: stopping", signal.strsignal(signum))
            self.requested.set()

    async def finish(self, work: set[asyncio.Task[Any]], grace: float = SHUTDOWN_GRACE_S) -> None:
        """Let `work` finish within `grace` seconds (less after a second signal); cancel the rest.

        Cancelled work apologises to its user itself (see TelegramBot._serve, ConsoleChat).
        """
        if not work:
            return
        log.info("waiting up to %.0f s for %d request(s) in flight", grace, len(work))
        everything = asyncio.ensure_future(asyncio.wait(work))
        urgent = asyncio.ensure_future(self.urgent.wait())
        try:
            await asyncio.wait(
                {everything, urgent}, timeout=grace, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            everything.cancel()
            urgent.cancel()
        late = [task for task in work if not task.done()]
        for task in late:
            task.cancel()
        if late:
            log.warning("cancelled %d request(s) still running at shutdown", len(late))
            await asyncio.gather(*late, return_exceptions=True)


@contextlib.contextmanager
def stop_signals() -> Iterator[Shutdown]:
    """Catch SIGINT and SIGTERM for the running loop, so that a stop is a clean one."""
    shutdown = Shutdown()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not on Windows, nor outside the main thread: there Ctrl+C stays KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, shutdown.on_signal, signum)
            installed.append(signum)
    try:
        yield shutdown
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


# The console
async def run_console(settings: Settings, stream: TextIO | None = None, hint: bool = False) -> None:
    """The terminal chat; `hint` says how to connect Telegram (when no token is set)."""
    from bot.console import ConsoleChat

    async with running_services(settings) as services:
        chat = ConsoleChat(services)
        if hint:
            chat.print(texts.CONSOLE_TELEGRAM_HINT)
        interactive = stream is None and sys.stdin.isatty()
        with stop_signals() as shutdown:
            await chat.run(stream or sys.stdin, prompt=interactive, shutdown=shutdown)


# Telegram
def check_webhook_settings(settings: Settings) -> str | None:
    """What is missing for webhook mode, in words; None when it can start."""
    if not settings.webhook_url:
        return "WEBHOOK_URL is required in webhook mode"
    if not settings.webhook_secret or not settings.webhook_secret.get_secret_value():
        # Without it anyone who finds the URL can post updates as any user.
        return "WEBHOOK_SECRET is required in webhook mode"
    return None


async def serve_telegram(settings: Settings, mode: str) -> None:
    """Polling or webhook until SIGINT/SIGTERM; work in flight finishes before exit."""
    from bot.telegram_app import TelegramBot

    services = await open_services(settings)
    try:
        bot = TelegramBot(services)
        purging = asyncio.create_task(purge_periodically(services))
        with stop_signals() as shutdown:
            try:
                if settings.preload:
                    await services.engine.preload()
                if not shutdown.requested.is_set():
                    if mode == "webhook":
                        await bot.start_webhook()
                    else:
                        await bot.start()
                    log.info("Tertulia is running (%s)", mode)
                    await shutdown.requested.wait()
                updater = bot.application.updater
                if updater is not None and updater.running:
                    await updater.stop()  # no new updates from here on
                await shutdown.finish(set(bot.in_flight))
            finally:
                purging.cancel()
                await bot.stop()
    finally:
        await close_services(services)
    log.info("Tertulia stopped")


def run_telegram(settings: Settings, mode: str) -> None:
    asyncio.run(serve_telegram(settings, mode))


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)
