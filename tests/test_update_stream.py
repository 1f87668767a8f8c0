"""The update stream and the workers' partition leases, against a real redis-server.

The workers here answer through a stand-in for the PTB application that records what it was
given; tests/e2e/test_scale_out.py runs the real processes over the local Bot API server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.partition_leases import PartitionLeases
from bot.runtime import Shutdown
from bot.update_stream import GROUP, StreamError, UpdateStream, key, partition_of
from bot.worker import Worker

PARTITIONS = 4
LEASE_S = 5.0
"""Long enough that no lease runs out while a test calls `rebalance` by hand."""


def message_update(update_id: int, chat_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "group", "title": "Tertulia"},
            "from": {"id": 7, "is_bot": False, "first_name": "Ana"},
            "text": f"mensaje {update_id}",
        },
    }


class RecordingApplication:
    """Stands in for PTB's Application: remembers (chat, update id) in the order handled."""

    bot = None

    def __init__(self) -> None:
        self.handled: list[tuple[int, int]] = []

    async def process_update(self, update: Any) -> None:
        await asyncio.sleep(0)  # let other partitions interleave, as real handlers do
        self.handled.append((update.effective_chat.id, update.update_id))


class RecordingBot:
    def __init__(self) -> None:
        self.application = RecordingApplication()


@pytest.fixture
async def stream(redis_url: str) -> AsyncIterator[UpdateStream]:
    opened = await UpdateStream.open(redis_url, PARTITIONS, connections=PARTITIONS + 4)
    yield opened
    await opened.close()


@pytest.fixture
async def make_worker(stream: UpdateStream) -> AsyncIterator[Callable[[str], Worker]]:
    """Workers named by the test; their partition tasks are stopped at the end."""
    made: list[Worker] = []

    def make(name: str) -> Worker:
        leases = PartitionLeases(stream.client, name, PARTITIONS, LEASE_S)
        worker = Worker(RecordingBot(), stream, leases)  # type: ignore[arg-type]
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.keeping.clear()
        for task in worker.tasks.values():
            task.cancel()
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(round(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"not true within {timeout} s")


async def test_an_update_sent_twice_is_appended_once(stream: UpdateStream) -> None:
    assert await stream.append(message_update(5, -100), 5, -100)
    assert not await stream.append(message_update(5, -100), 5, -100)
    assert await stream.append(message_update(6, -100), 6, -100)
    assert await stream.client.xlen(key("updates", partition_of(-100, PARTITIONS))) == 2


async def test_each_chat_always_lands_in_the_same_partition(stream: UpdateStream) -> None:
    for update_id, chat_id in enumerate([-1001, -1001, 42, 43, -7], start=1):
        await stream.append(message_update(update_id, chat_id), update_id, chat_id)
    assert {partition_of(chat, PARTITIONS) for chat in (-1001, 42, 43, -7)} <= set(
        range(PARTITIONS)
    )
    lengths = [await stream.client.xlen(key("updates", p)) for p in range(PARTITIONS)]
    assert lengths[partition_of(-1001, PARTITIONS)] >= 2
    assert sum(lengths) == 5


async def test_a_process_with_another_partition_count_refuses_to_start(
    stream: UpdateStream, redis_url: str
) -> None:
    with pytest.raises(StreamError, match=r"UPDATE_PARTITIONS is 5.*split into 4"):
        await UpdateStream.open(redis_url, PARTITIONS + 1)


async def test_a_worker_answers_what_a_dead_one_had_read_first_and_in_order(
    stream: UpdateStream, make_worker: Callable[[str], Worker]
) -> None:
    chat = -1001
    partition = partition_of(chat, PARTITIONS)
    for update_id in range(1, 6):
        await stream.append(message_update(update_id, chat), update_id, chat)
    # A worker that died after reading three updates and answering none.
    await stream.ensure_group(partition)
    read = await stream.client.xreadgroup(
        GROUP, "dead-worker", {key("updates", partition): ">"}, count=3
    )
    assert len(read[0][1]) == 3

    worker = make_worker("live-worker")
    await worker.rebalance()
    assert set(worker.keeping) == set(range(PARTITIONS))  # the only live worker takes all
    handled = worker.bot.application.handled  # type: ignore[attr-defined]
    await until(lambda: len(handled) == 5)
    assert handled == [(chat, update_id) for update_id in range(1, 6)]
    stream_key = key("updates", partition)
    for _ in range(50):  # the last acknowledgement follows its answer closely
        if not await stream.client.xlen(stream_key):
            break
        await asyncio.sleep(0.02)
    assert await stream.client.xlen(stream_key) == 0  # answered entries are deleted
    consumers = await stream.client.xinfo_consumers(stream_key, GROUP)
    assert [c["name"] for c in consumers] == ["live-worker"]  # the dead one is forgotten


async def test_workers_share_the_partitions_and_a_newcomer_gets_its_share(
    stream: UpdateStream, make_worker: Callable[[str], Worker]
) -> None:
    first, second = make_worker("first"), make_worker("second")
    await first.rebalance()
    assert len(first.keeping) == PARTITIONS
    await second.rebalance()  # counted as live now, but every partition is taken
    assert not second.keeping
    await first.rebalance()  # sees two live workers: gives half back
    assert len(first.keeping) == PARTITIONS // 2
    given_back = set(range(PARTITIONS)) - first.keeping
    await until(lambda: all(first.tasks[p].done() for p in given_back))
    await second.rebalance()
    assert second.keeping == given_back

    # Chats in every partition are answered, each by the worker holding its partition.
    chats = [-(1000 + n) for n in range(8)]
    for update_id, chat in enumerate(chats, start=1):
        await stream.append(message_update(update_id, chat), update_id, chat)

    def all_handled() -> bool:
        apps = [w.bot.application for w in (first, second)]
        return sum(len(app.handled) for app in apps) == len(chats)  # type: ignore[attr-defined]

    await until(all_handled)
    for worker in (first, second):
        for chat, _ in worker.bot.application.handled:  # type: ignore[attr-defined]
            assert partition_of(chat, PARTITIONS) in worker.keeping


async def test_a_dead_workers_partitions_pass_on_when_its_leases_end(
    stream: UpdateStream, make_worker: Callable[[str], Worker]
) -> None:
    survivor, dead = make_worker("survivor"), make_worker("dead")
    await survivor.rebalance()
    await dead.rebalance()
    await survivor.rebalance()
    given_back = set(range(PARTITIONS)) - survivor.keeping
    await until(lambda: all(survivor.tasks[p].done() for p in given_back))
    await dead.rebalance()
    assert dead.keeping == given_back
    # It dies: no more renewals, its tasks stop without a word to Redis.
    for task in dead.tasks.values():
        task.cancel()
    dead.keeping.clear()
    await asyncio.gather(*dead.tasks.values(), return_exceptions=True)
    for partition in given_back:  # a cancelled task gave its lease back; a dead one cannot
        await stream.client.set(key("lease", partition), "dead", px=300)
    await stream.client.zadd(key("workers"), {"dead": 0})  # its last beat, long ago

    await survivor.rebalance()
    assert len(survivor.keeping) == PARTITIONS // 2  # the leases still run
    await asyncio.sleep(0.4)
    await survivor.rebalance()
    assert survivor.keeping == set(range(PARTITIONS))


async def test_a_stopping_worker_finishes_and_gives_everything_back(
    stream: UpdateStream, make_worker: Callable[[str], Worker]
) -> None:
    worker = make_worker("stopping")
    shutdown = Shutdown()
    running = asyncio.create_task(worker.run(shutdown, LEASE_S))
    await until(lambda: len(worker.keeping) == PARTITIONS)
    shutdown.requested.set()
    await asyncio.wait_for(running, 10)
    assert (
        await stream.client.mget([key("lease", p) for p in range(PARTITIONS)])
        == [None] * PARTITIONS
    )
    assert await stream.client.zcard(key("workers")) == 0
