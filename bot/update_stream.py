"""Telegram updates in Redis streams, between `python -m bot ingress` and the workers.

One stream per partition; a chat always lands in the same partition (its id modulo
UPDATE_PARTITIONS), and a partition is read by one worker at a time, so a chat's updates are
handled in the order Telegram sent them. Keys, under the store's `tertulia:` prefix:

    updates:{p}         the stream of partition p; field `update` holds the update's JSON
    partitions          the partition count, fixed by the first process that starts
    appended:{bucket}   hash of the update ids appended (100 ids a bucket, kept a day):
                        Telegram sends an update again when its delivery was not confirmed,
                        and the append of a second copy is dropped with the first's id
    lease:{p}, workers  who holds which partition (bot/partition_leases.py)

An answered entry is acknowledged and deleted at once, so a stream holds only what is still to
answer and no update is in it twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError, ResponseError

from bot.store_redis import PREFIX, TIMEOUT_S

log = logging.getLogger(__name__)

GROUP = "workers"
# Telegram keeps an unconfirmed update for a day, so it can only come back within one.
APPENDED_TTL_S = 86_400
APPENDED_BUCKET = 100

_APPEND = """
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'update', ARGV[3])
return 1
"""


class StreamError(RuntimeError):
    """The update stream cannot be used as configured (say, another partition count)."""


@dataclass(frozen=True)
class Entry:
    """One update as read from a partition."""

    id: str
    update: dict[str, Any] | None
    """None when the entry cannot be read as JSON; it is acknowledged without an answer."""


def key(*parts: object) -> str:
    return PREFIX + ":".join(str(part) for part in parts)


def partition_of(chat_id: int, partitions: int) -> int:
    """A chat's partition: the same for every process, whatever the sign of the id."""
    return chat_id % partitions


class UpdateStream:
    """The partitioned streams over one Redis connection pool (REDIS_URL)."""

    def __init__(self, client: Redis, partitions: int) -> None:
        """Use `await UpdateStream.open(url, partitions)`, which checks the partition count."""
        self.client = client
        self.partitions = partitions
        self._append = client.register_script(_APPEND)

    @classmethod
    async def open(cls, url: str, partitions: int, connections: int = 8) -> UpdateStream:
        """Connect; each blocking read holds a connection, so a worker asks for one per
        partition it may hold."""
        try:
            pool = BlockingConnectionPool.from_url(
                url,
                max_connections=connections,
                timeout=TIMEOUT_S,
                decode_responses=True,
                socket_connect_timeout=TIMEOUT_S,
                socket_timeout=TIMEOUT_S,
            )
        except ValueError as exc:
            raise StreamError(f"REDIS_URL is not a Redis URL: {exc}") from exc
        client = Redis.from_pool(pool)
        stream = cls(client, partitions)
        try:
            await stream._check_partitions()
        except BaseException:
            await client.aclose()
            raise
        return stream

    async def _check_partitions(self) -> None:
        """Every process must split chats the same way, or a chat's order is lost."""
        await self.client.set(key("partitions"), self.partitions, nx=True)
        stored = int(await self.client.get(key("partitions")) or 0)
        if stored != self.partitions:
            raise StreamError(
                f"UPDATE_PARTITIONS is {self.partitions}, but the update streams in Redis are "
                f"split into {stored}; use {stored}, or stop every process, let the workers "
                f"empty the streams and delete the key {key('partitions')}"
            )

    async def close(self) -> None:
        await self.client.aclose()

    # Ingress
    async def append(self, update: dict[str, Any], update_id: int, chat_id: int) -> bool:
        """Add an update to its chat's partition; False when this update id was already added."""
        bucket, slot = divmod(update_id, APPENDED_BUCKET)
        partition = partition_of(chat_id, self.partitions)
        keys = [key("appended", bucket), key("updates", partition)]
        args: list[str | int] = [slot, APPENDED_TTL_S, json.dumps(update, ensure_ascii=False)]
        return bool(await self._append(keys=keys, args=args))

    # Workers
    async def ensure_group(self, partition: int) -> None:
        """The consumer group reads from the stream's start, so nothing appended before it
        existed is skipped."""
        try:
            await self.client.xgroup_create(key("updates", partition), GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def claim(self, partition: int, consumer: str, start: str) -> tuple[str, list[Entry]]:
        """Entries read earlier and not acknowledged, by anyone, now owned by `consumer`.

        The caller holds the partition's lease, and a lease only passes on once the previous
        holder stopped renewing it, so its entries need no further idle time.
        """
        answer = await self.client.xautoclaim(
            key("updates", partition), GROUP, consumer, min_idle_time=0, start_id=start, count=50
        )
        next_start, raw = answer[0], answer[1]
        return str(next_start), _entries(raw)

    async def read(self, partition: int, consumer: str, block_ms: int) -> list[Entry]:
        """New entries, waiting up to `block_ms` for the first."""
        # RESP2's answer: [[stream, [[id, fields], ...]]], or None when the wait ran out.
        answer: Any = await self.client.xreadgroup(
            GROUP, consumer, {key("updates", partition): ">"}, count=10, block=block_ms
        )
        return [entry for _, raw in answer or [] for entry in _entries(raw)]

    async def done(self, partition: int, entry_id: str) -> None:
        """Acknowledge and delete an answered entry, in one step: no later claim returns it."""
        stream = key("updates", partition)
        async with self.client.pipeline(transaction=True) as multi:
            multi.xack(stream, GROUP, entry_id)
            multi.xdel(stream, entry_id)
            await multi.execute()

    async def forget_idle_consumers(self, partition: int, consumer: str) -> None:
        """Drop consumers of earlier workers that own nothing any more, so XINFO stays short."""
        stream = key("updates", partition)
        try:
            for info in await self.client.xinfo_consumers(stream, GROUP):
                if info["name"] != consumer and not info["pending"]:
                    await self.client.xgroup_delconsumer(stream, GROUP, info["name"])
        except RedisError as exc:
            log.debug("could not tidy the consumers of %s: %s", stream, exc)


def _entries(raw: list[Any]) -> list[Entry]:
    entries = []
    for entry_id, fields in raw:
        try:
            update = json.loads((fields or {})["update"])
        except (KeyError, TypeError, ValueError):
            log.error("unreadable entry %s in the update stream: acknowledged unanswered", entry_id)
            update = None
        entries.append(Entry(str(entry_id), update))
    return entries
