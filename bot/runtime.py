"""Starting each way of running Tertulia (console, polling, webhook) and stopping it cleanly.

A stop (SIGINT, SIGTERM) lets requests in flight finish for a grace period, cancels the rest,
closes the engine and then the database, and ends the process within STOP_LIMIT_S of the first
signal even when a thread is still busy (a model load, a long generation); a second signal
ends it at once, the database still closed first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from bot import texts
from bot.config import Settings
from bot.engine import Engine, InferenceBackend
from bot.services import Services
from bot.store import Store, StoreError, open_store

log = logging.getLogger(__name__)

# How long a stop waits for requests in flight before apologising for them.
SHUTDOWN_GRACE_S = 7.0
# From the first signal to the end of the process, whatever still runs: under the 10 s Docker
# waits between SIGTERM and SIGKILL.
STOP_LIMIT_S = 9.5
# What closing the store may need of that, after the engine had its turn.
STORE_CLOSE_S = 1.0
# The least the engine gets to close, even after a second signal.
ENGINE_CLOSE_MIN_S = 0.2
# With the database closed, how long Python's own exit may take: it waits for every thread, and
# one may be stuck in a model load. Also how soon a second signal ends the process.
EXIT_AFTER_CLOSE_S = 1.0


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
    return Services(settings=settings, engine=await open_engine(settings), store=store)


async def open_engine(settings: Settings) -> InferenceBackend:
    """The in-process engine, or with ENGINE_BACKEND=ray the model server's RemoteEngine.

    A model server that cannot be reached yet is no reason not to start: until it can, model
    requests get the "busy" reply and the other commands work.
    """
    if settings.engine_backend != "ray":
        return Engine(settings)
    from bot.engine.remote import RemoteEngine

    engine = RemoteEngine(settings)
    try:
        await engine.connect()
    except ConnectionError as exc:
        log.error("the model server is not reachable yet: %s", exc)
    return engine


async def purge_old_texts(store: Store, settings: Settings) -> int:
    """Delete reading texts and saved texts older than DATA_RETENTION_DAYS (0 keeps them), and
    groups' remembered messages older than GROUP_MEMORY_HOURS (always)."""
    forgotten = await store.purge_messages(settings.group_memory_seconds)
    if forgotten:
        log.info("purged %d remembered group messages", forgotten)
    if not settings.data_retention_days:
        return forgotten
    removed = await store.purge(settings.data_retention_days)
    if removed:
        log.info("purged %d stored texts older than %d days", removed, settings.data_retention_days)
    return removed + forgotten


async def purge_periodically(services: Services, every: float = PURGE_EVERY_S) -> None:
    """Keep purging while the bot runs, so retention holds for bots that never restart."""
    while True:
        await asyncio.sleep(every)
        try:
            await purge_old_texts(services.store, services.settings)
        except StoreError as exc:
            log.error("could not purge old texts: %s", exc)


async def close_services(services: Services) -> None:
    """The engine, then the store; in a signalled stop, within the stop's time, and then the
    process is left EXIT_AFTER_CLOSE_S to end by itself."""
    stopping = _signalled
    within = None
    if stopping is not None:
        within = max(ENGINE_CLOSE_MIN_S, stopping.time_left() - STORE_CLOSE_S)
    try:
        await asyncio.wait_for(services.engine.close(), within)
    except TimeoutError:
        log.warning("the engine did not close within %.1f s: left to the exit", within)
    finally:
        await services.store.close()
        if stopping is not None:
            if stopping.urgent.is_set():
                _watchdog.exit_within(0.0, "second signal, the database closed")
            else:
                _watchdog.exit_within(EXIT_AFTER_CLOSE_S, "a thread is still busy after the stop")


async def until_stopped(work: Awaitable[Any], shutdown: Shutdown) -> None:
    """Await `work` unless a stop comes first, which cancels it (preloading at start)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(shutdown.requested.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        task.result()
        return
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# Stopping
# The stop a signal started in this process: closing the services then keeps to its time.
_signalled: Shutdown | None = None


@dataclass
class Shutdown:
    """SIGINT/SIGTERM as events: the first asks to stop, a second one stops waiting for work."""

    requested: asyncio.Event = field(default_factory=asyncio.Event)
    urgent: asyncio.Event = field(default_factory=asyncio.Event)
    deadline: float = math.inf  # time.monotonic() by which the process ends

    def on_signal(self, signum: int) -> None:
        global _signalled
        _signalled = self
        if self.requested.is_set():
            log.warning("second %s: not waiting for requests in flight", signal.strsignal(signum))
            self.urgent.set()
            self.deadline = min(self.deadline, time.monotonic() + EXIT_AFTER_CLOSE_S)
            _watchdog.exit_within(EXIT_AFTER_CLOSE_S, "second signal")
        else:
            log.info("%s: stopping", signal.strsignal(signum))
            self.requested.set()
            self.deadline = time.monotonic() + STOP_LIMIT_S
            _watchdog.exit_within(STOP_LIMIT_S, f"the stop took {STOP_LIMIT_S:.1f} s")

    def time_left(self) -> float:
        """Seconds until the process must have ended (infinite before any signal)."""
        return self.deadline - time.monotonic()

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
            if shutdown.requested.is_set():
                # Still stopping (closing, exiting): a signal from here on hurries the exit.
                signal.signal(signum, _hurry_exit)


class ExitWatchdog:
    """Ends a stopping process at its deadline from a thread of its own, whatever still runs.

    Python's exit waits for every thread, and a model load or a generation cannot be
    interrupted; the deadline only ever moves earlier.
    """

    def __init__(self) -> None:
        self._deadline = math.inf
        self._reason = ""
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def exit_within(self, seconds: float, reason: str) -> None:
        with self._changed:
            deadline = time.monotonic() + max(0.0, seconds)
            if deadline < self._deadline:
                self._deadline, self._reason = deadline, reason
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="exit-watchdog", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while (left := self._deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            reason = self._reason
        exit_now(reason)


def exit_now(reason: str) -> None:
    """End the process with exit code 0, without waiting for threads; output flushed first."""
    log.warning("exiting now: %s", reason)
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _hurry_exit(signum: int, frame: FrameType | None) -> None:
    """A signal after the loop stopped listening: the process is already stopping."""
    _watchdog.exit_within(EXIT_AFTER_CLOSE_S, f"second {signal.strsignal(signum)}")


_watchdog = ExitWatchdog()


# The console
async def run_console(
    settings: Settings,
    stream: TextIO | None = None,
    hint: bool = False,
    log_file: Path | None = None,
) -> None:
    """The terminal chat; `hint` says how to connect Telegram (when no token is set), and
    `log_file` where the logs go."""
    from bot.console import ConsoleChat

    with stop_signals() as shutdown:
        services = await open_services(settings)
        try:
            chat = ConsoleChat(services, log_file=log_file)
            if hint:
                chat.print(texts.CONSOLE_TELEGRAM_HINT)
            if settings.preload:
                await until_stopped(services.engine.preload(), shutdown)
            if not shutdown.requested.is_set():
                interactive = stream is None and sys.stdin.isatty()
                await chat.run(stream or sys.stdin, prompt=interactive, shutdown=shutdown)
        finally:
            await close_services(services)


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
                    await until_stopped(services.engine.preload(), shutdown)
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
