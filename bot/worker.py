"""`python -m bot worker`: answers the updates of the partitions it holds, each chat in order.

Start any number; they share the partitions (bot/partition_leases.py). Each held partition is
one task: it first takes over what earlier holders read and did not acknowledge, then reads new
entries, one at a time, through the same handlers as `python -m bot polling`. An entry is
acknowledged after its reply was sent, so delivery is at least once: a worker killed between
sending a reply and acknowledging it gets that update answered a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from redis.exceptions import RedisError
from telegram import Update

from bot.config import Settings
from bot.partition_leases import PartitionLeases
from bot.runtime import Shutdown, close_services, open_services, purge_periodically, stop_signals
from bot.telegram_app import TelegramBot
from bot.update_stream import Entry, UpdateStream

log = logging.getLogger(__name__)

# Leases are renewed three times per lease period, so one slow renewal does not lose them.
RENEWALS_PER_LEASE = 3
READ_BLOCK_MS = 1000
RETRY_AFTER_ERROR_S = 1.0


def worker_name() -> str:
    """Unique per process; host and process id say where to look when one misbehaves."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    """Holds a fair share of the partitions and serves each with one task."""

    def __init__(self, bot: TelegramBot, stream: UpdateStream, leases: PartitionLeases) -> None:
        self.bot = bot
        self.stream = stream
        self.leases = leases
        self.name = leases.worker
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.keeping: set[int] = set()
        """Partitions it holds and goes on reading; the others' tasks finish their entry."""
        self.draining = False

    async def run(self, shutdown: Shutdown, lease_s: float) -> None:
        """Serve until a stop; then finish the entries in hand and give the leases back."""
        keeper = asyncio.create_task(self._keep_leases(lease_s / RENEWALS_PER_LEASE))
        try:
            await shutdown.requested.wait()
            self.draining = True
            self.keeping.clear()
            await shutdown.finish(set(self.tasks.values()))
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            with contextlib.suppress(RedisError, OSError):
                await self.leases.leave()

    # Leases
    async def _keep_leases(self, every_s: float) -> None:
        while True:
            try:
                await self.rebalance()
            except (RedisError, OSError) as exc:
                log.error("could not renew the partition leases: %s", exc)
            await asyncio.sleep(every_s)

    async def rebalance(self) -> None:
        """Renew what it holds, give back more than its share, take free partitions up to it."""
        live = await self.leases.beat()
        for partition, task in list(self.tasks.items()):
            if task.done():
                del self.tasks[partition]
                self.keeping.discard(partition)
                if not task.cancelled() and (error := task.exception()) is not None:
                    log.error("partition %d stopped: %r", partition, error, exc_info=error)
            elif not await self.leases.renew(partition):
                log.warning("lost the lease of partition %d; its new holder goes on", partition)
                self.keeping.discard(partition)
        if self.draining:
            return
        extra = len(self.keeping) - self.leases.fair_share(live)
        if extra > 0:
            for partition in sorted(self.keeping)[-extra:]:
                log.info("giving partition %d back: %d workers share them now", partition, live)
                self.keeping.discard(partition)
        elif extra < 0:
            for partition in await self.leases.acquire(-extra, set(self.tasks)):
                if self.draining:  # a stop came while acquiring
                    await self.leases.release(partition)
                    continue
                log.info("took partition %d", partition)
                self.keeping.add(partition)
                self.tasks[partition] = asyncio.create_task(
                    self._serve_partition(partition), name=f"partition-{partition}"
                )

    # Entries
    async def _serve_partition(self, partition: int) -> None:
        """Earlier holders' entries first, then new ones, until the partition is let go."""
        try:
            while partition in self.keeping:
                try:
                    await self.stream.ensure_group(partition)
                    await self._catch_up(partition)
                    while partition in self.keeping:
                        for entry in await self.stream.read(partition, self.name, READ_BLOCK_MS):
                            if partition not in self.keeping:
                                break  # left pending: the next holder claims it
                            await self._answer(partition, entry)
                except (RedisError, OSError) as exc:
                    log.error(
                        "partition %d: %s; reading again in %.0f s",
                        partition,
                        exc,
                        RETRY_AFTER_ERROR_S,
                    )
                    await asyncio.sleep(RETRY_AFTER_ERROR_S)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await self.leases.release(partition)  # only if still ours

    async def _catch_up(self, partition: int) -> None:
        """Answer the entries read and not acknowledged before (by a dead worker, or by this
        one before a Redis error), oldest first."""
        start, claimed = "0-0", 0
        while partition in self.keeping:
            start, entries = await self.stream.claim(partition, self.name, start)
            for entry in entries:
                if partition not in self.keeping:
                    return
                claimed += 1
                await self._answer(partition, entry)
            if start == "0-0":
                break
        if claimed:
            log.info("took over %d unacknowledged entries of partition %d", claimed, partition)
        await self.stream.forget_idle_consumers(partition, self.name)

    async def _answer(self, partition: int, entry: Entry) -> None:
        """Through the PTB handlers (errors go to its error handler), then acknowledged."""
        if entry.update is not None:
            try:
                update = Update.de_json(entry.update, self.bot.application.bot)
                await self.bot.application.process_update(update)
            except Exception:
                # A malformed update would fail the same way every time: log it and move on.
                log.exception("could not handle entry %s of partition %d", entry.id, partition)
        await self.stream.done(partition, entry.id)


async def serve_worker(settings: Settings) -> None:
    """A worker until SIGINT/SIGTERM; entries in hand are answered before it exits."""
    partitions = settings.update_partitions
    services = await open_services(settings)
    try:
        bot = TelegramBot(services)
        stream = await UpdateStream.open(settings.redis_url, partitions, partitions + 4)
        try:
            leases = PartitionLeases(
                stream.client, worker_name(), partitions, settings.worker_lease_seconds
            )
            worker = Worker(bot, stream, leases)
            purging = asyncio.create_task(purge_periodically(services))
            with stop_signals() as shutdown:
                try:
                    if settings.preload:
                        await services.engine.preload()
                    await bot.start_handling()
                    log.info("Tertulia worker %s is running", worker.name)
                    await worker.run(shutdown, settings.worker_lease_seconds)
                finally:
                    purging.cancel()
                    await bot.stop()
        finally:
            await stream.close()
    finally:
        await close_services(services)
    log.info("Tertulia worker stopped")
