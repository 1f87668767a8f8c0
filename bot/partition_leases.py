"""Which worker reads which partition: leases in Redis, renewed while the worker lives.

A lease (`lease:{p}` = the worker's name) expires WORKER_LEASE_SECONDS after its last renewal,
so a worker that dies hands its partitions on by itself. Each worker also beats in the sorted
set `workers`; the live ones share the partitions evenly, a busy worker giving some back when
another one starts.
"""

from __future__ import annotations

import math
import random
import time

from redis.asyncio import Redis

from bot.update_stream import key

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class PartitionLeases:
    """One worker's view of the leases: beat, renew, take a fair share, give back the rest."""

    def __init__(self, client: Redis, worker: str, partitions: int, lease_s: float) -> None:
        self.client = client
        self.worker = worker
        self.partitions = partitions
        self.lease_ms = max(1, round(lease_s * 1000))
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    async def beat(self) -> int:
        """Say this worker is alive; the number of live workers, this one included."""
        now = time.time()
        async with self.client.pipeline(transaction=True) as multi:
            multi.zadd(key("workers"), {self.worker: now})
            multi.zremrangebyscore(key("workers"), "-inf", now - self.lease_ms / 1000)
            multi.zcard(key("workers"))
            *_, live = await multi.execute()
        return max(1, int(live))

    def fair_share(self, live_workers: int) -> int:
        return math.ceil(self.partitions / live_workers)

    async def renew(self, partition: int) -> bool:
        """Extend a lease; False when it expired and may belong to another worker now."""
        renewed = await self._renew(
            keys=[key("lease", partition)], args=[self.worker, self.lease_ms]
        )
        return bool(renewed)

    async def acquire(self, wanted: int, held: set[int]) -> list[int]:
        """Take up to `wanted` free partitions, trying them in a random order so that workers
        starting together do not all race for the same one."""
        others = [p for p in range(self.partitions) if p not in held]
        if wanted <= 0 or not others:
            return []
        owners = await self.client.mget([key("lease", p) for p in others])
        free = [p for p, owner in zip(others, owners, strict=True) if owner is None]
        random.shuffle(free)
        taken: list[int] = []
        for partition in free:
            if len(taken) >= wanted:
                break
            if await self.client.set(
                key("lease", partition), self.worker, nx=True, px=self.lease_ms
            ):
                taken.append(partition)
        return taken

    async def release(self, partition: int) -> None:
        """Give a lease back at once, so the next worker need not wait for it to expire."""
        await self._release(keys=[key("lease", partition)], args=[self.worker])

    async def leave(self) -> None:
        """No longer counted among the live workers (a clean stop)."""
        await self.client.zrem(key("workers"), self.worker)
