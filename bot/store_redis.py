"""Chat state, rate limits and refusals in Redis (REDIS_URL), shared by every bot process.

The same `Store` contract as SQLite: every call is one script or one transaction, so it is
atomic, and ages are scores in sorted sets, so `purge` deletes and counts exactly what SQLite's
would. Keys, all under `tertulia:`:

    context:{chat}       a chat's reading text      contexts   sorted set: chat -> updated
    text:{id}            hash: chat, text           texts      sorted set: id -> created
    chat_texts:{chat}    set of the chat's text ids next_text_id  the ids' counter
    questions:{chat}     hash: user -> last active
    group_options:{chat} set of the options on      messages:{chat}  list of JSON messages,
    message_chats        set of chats with messages oldest first, trimmed, expiring
    rate:{user}, warned:{user}, refused:{chat}      access marks, which expire by themselves

One Redis server, not a cluster: the scripts touch keys they build themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from bot.store import GroupMessage, GroupOption, StoreError, now

log = logging.getLogger(__name__)

T = TypeVar("T")

PREFIX = "tertulia:"
# Expired entries are purged in slices, so one large purge never blocks Redis for long.
PURGE_SLICE = 500
# A Redis that does not answer makes a StoreError within seconds, not a frozen chat.
TIMEOUT_S = 5.0
# Calls beyond this many at once wait for a free connection (up to TIMEOUT_S) instead of failing.
MAX_CONNECTIONS = 50

_IN_QUESTIONS = """
local last = redis.call('HGET', KEYS[1], ARGV[1])
if not last then return 0 end
if tonumber(last) >= tonumber(ARGV[2]) then return 1 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 0
"""

_TOUCH_QUESTIONS = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""

_SAVE_TEXT = """
local id = redis.call('INCR', KEYS[1])
redis.call('HSET', ARGV[1] .. 'text:' .. id, 'chat', ARGV[2], 'text', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], id)
redis.call('SADD', ARGV[1] .. 'chat_texts:' .. ARGV[2], id)
return id
"""

_FORGET_CHAT = """
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('DEL', ARGV[1] .. 'text:' .. id)
  redis.call('ZREM', KEYS[5], id)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[6])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('SREM', KEYS[7], ARGV[2])
return 0
"""

# Messages are pushed in time order, so the expired ones are at the head of the list.
# KEYS[1] a chat's messages, KEYS[2] the chats with messages; ARGV[1] the cutoff, ARGV[2] the chat.
_DROP_EXPIRED = """
local removed = 0
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then
    redis.call('SREM', KEYS[2], ARGV[2])
    break
  end
  if tonumber(cjson.decode(head).sent) >= tonumber(ARGV[1]) then break end
  redis.call('LPOP', KEYS[1])
  removed = removed + 1
end
"""

_PURGE_MESSAGES = _DROP_EXPIRED + "return removed\n"

# ARGV[3] the message, ARGV[4] how many to keep, ARGV[5] the list's lifetime in ms.
_REMEMBER = (
    """
redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[4]), -1)
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
"""
    + _DROP_EXPIRED
    + "return removed\n"
)

_PURGE_SLICE = """
local chats = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, ARGV[3])
for _, chat in ipairs(chats) do
  redis.call('DEL', ARGV[1] .. 'context:' .. chat)
  redis.call('ZREM', KEYS[1], chat)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'text:' .. id
  local chat = redis.call('HGET', key, 'chat')
  if chat then redis.call('SREM', ARGV[1] .. 'chat_texts:' .. chat, id) end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[2], id)
end
return {#chats, #ids}
"""

_HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) - tonumber(ARGV[2]))
"""

_FIRST = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"""


def _key(*parts: object) -> str:
    return PREFIX + ":".join(str(part) for part in parts)


def _number(value: float) -> str:
    """A float as Redis and Lua read it back exactly (shortest round-trip form)."""
    return repr(float(value))


def _without_password(url: str) -> str:
    """The URL for log lines: a password in it is replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}***@{host}"))


class RedisStore:
    """The `Store` contract over one Redis connection pool; failures are StoreErrors."""

    def __init__(self, client: Redis, url: str) -> None:
        """Use `await RedisStore.open(url)`, which checks that Redis answers."""
        self.client = client
        self.where = _without_password(url)
        self._closed = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._scripts = {
            source: client.register_script(source)
            for source in (
                _IN_QUESTIONS,
                _TOUCH_QUESTIONS,
                _SAVE_TEXT,
                _FORGET_CHAT,
                _PURGE_SLICE,
                _PURGE_MESSAGES,
                _REMEMBER,
                _HIT,
                _FIRST,
            )
        }

    @classmethod
    async def open(cls, url: str) -> RedisStore:
        """Connects and checks that Redis answers; an unreachable Redis is a StoreError."""
        try:
            pool = BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=TIMEOUT_S,
                decode_responses=True,
                socket_connect_timeout=TIMEOUT_S,
                socket_timeout=TIMEOUT_S,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
            )
        except ValueError as exc:
            raise StoreError(f"REDIS_URL is not a Redis URL: {exc}") from exc
        client = Redis.from_pool(pool)
        store = cls(client, url)
        try:
            await store._run(client.ping)
        except StoreError:
            await client.aclose()
            raise
        await store._warn_without_persistence()
        return store

    async def _warn_without_persistence(self) -> None:
        """Say so when Redis keeps chat state only in memory: its restart would lose it."""
        try:
            config = await self.client.config_get("appendonly")
        except RedisError:
            return  # CONFIG is disabled on some managed Redis services; they persist anyway
        if config.get("appendonly") == "no":
            log.warning(
                "Redis at %s runs without AOF persistence (appendonly no): a restart of Redis "
                "loses every chat's state; run it with --appendonly yes",
                self.where,
            )

    async def _run(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`, counted as in flight so `close` waits for it; Redis failures become
        StoreErrors."""
        if self._closed:
            raise StoreError(f"the Redis store at {self.where} is closed")
        self._in_flight += 1
        self._idle.clear()
        try:
            return await work()
        except (RedisError, OSError) as exc:
            log.error("Redis error at %s: %s", self.where, exc)
            raise StoreError(f"Redis error at {self.where}: {exc}") from exc
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _script(self, source: str, keys: list[str], args: list[str | int]) -> Any:
        """One Lua script, atomic in Redis (sent by its hash; resent if Redis forgot it)."""
        script = self._scripts[source]
        return await self._run(lambda: script(keys=keys, args=args))

    # Reading text
    async def set_context(self, chat_id: int, text: str) -> None:
        async def write() -> None:
            async with self.client.pipeline(transaction=True) as multi:
                multi.set(_key("context", chat_id), text)
                multi.zadd(_key("contexts"), {str(chat_id): now()})
                await multi.execute()

        await self._run(write)

    async def get_context(self, chat_id: int) -> str | None:
        found = await self._run(lambda: self.client.get(_key("context", chat_id)))
        return None if found is None else str(found)

    # Question mode
    async def start_questions(self, chat_id: int, user_id: int) -> None:
        await self._run(
            lambda: self.client.hset(_key("questions", chat_id), str(user_id), _number(now()))
        )

    async def in_questions(self, chat_id: int, user_id: int, idle_seconds: float) -> bool:
        """True while the user is in question mode and has not been idle too long; else ends it."""
        active = await self._script(
            _IN_QUESTIONS, [_key("questions", chat_id)], [user_id, _number(now() - idle_seconds)]
        )
        return bool(active)

    async def touch_questions(self, chat_id: int, user_id: int) -> None:
        await self._script(
            _TOUCH_QUESTIONS, [_key("questions", chat_id)], [user_id, _number(now())]
        )

    async def end_questions(self, chat_id: int, user_id: int) -> bool:
        questions = _key("questions", chat_id)
        removed = await self._run(lambda: self.client.hdel(questions, str(user_id)))
        return bool(removed)

    # Texts behind buttons
    async def save_text(self, chat_id: int, text: str) -> int:
        """Ids come from one counter in Redis, so they are unique across bot processes."""
        keys = [_key("next_text_id"), _key("texts")]
        return int(await self._script(_SAVE_TEXT, keys, [PREFIX, chat_id, text, _number(now())]))

    async def get_text(self, chat_id: int, text_id: int) -> str | None:
        owner, text = await self._run(
            lambda: self.client.hmget(_key("text", text_id), ["chat", "text"])
        )
        return str(text) if owner == str(chat_id) and text is not None else None

    # Groups
    async def set_group_option(self, chat_id: int, option: GroupOption, on: bool) -> None:
        key = _key("group_options", chat_id)
        if on:
            await self._run(lambda: self.client.sadd(key, option))
        else:
            await self._run(lambda: self.client.srem(key, option))

    async def group_options(self, chat_id: int) -> frozenset[str]:
        found = await self._run(lambda: self.client.smembers(_key("group_options", chat_id)))
        return frozenset(str(option) for option in found)

    async def remember_message(
        self, chat_id: int, author: str, text: str, keep: int, max_age: float
    ) -> None:
        """One script: push, trim to `keep`, drop the expired head; the list expires with the
        last message, so a quiet group's memory goes by itself."""
        sent = now()
        message = json.dumps({"author": author, "text": text, "sent": sent}, ensure_ascii=False)
        keys = [_key("messages", chat_id), _key("message_chats")]
        args: list[str | int] = [
            _number(sent - max_age),
            chat_id,
            message,
            max(1, keep),
            _ms(max_age),
        ]
        await self._script(_REMEMBER, keys, args)

    async def recent_messages(self, chat_id: int, limit: int, max_age: float) -> list[GroupMessage]:
        if limit <= 0:
            return []
        found = await self._run(lambda: self.client.lrange(_key("messages", chat_id), -limit, -1))
        cutoff = now() - max_age
        messages = [json.loads(raw) for raw in found]
        return [
            GroupMessage(str(m["author"]), str(m["text"]), float(m["sent"]))
            for m in messages
            if float(m["sent"]) >= cutoff
        ]

    async def forget_messages(self, chat_id: int) -> int:
        async def delete() -> int:
            async with self.client.pipeline(transaction=True) as multi:
                multi.llen(_key("messages", chat_id))
                multi.delete(_key("messages", chat_id))
                multi.srem(_key("message_chats"), str(chat_id))
                count, _, _ = await multi.execute()
            return int(count)

        return await self._run(delete)

    async def purge_messages(self, max_age: float) -> int:
        """Each chat with messages in its own short script."""
        cutoff = _number(now() - max_age)
        chats = await self._run(lambda: self.client.smembers(_key("message_chats")))
        removed = 0
        for chat in chats:
            keys = [_key("messages", chat), _key("message_chats")]
            removed += int(await self._script(_PURGE_MESSAGES, keys, [cutoff, str(chat)]))
        return removed

    # Privacy
    async def forget_chat(self, chat_id: int) -> None:
        """Delete everything stored for a chat (/olvidar), in one script."""
        keys = [
            _key("context", chat_id),
            _key("questions", chat_id),
            _key("chat_texts", chat_id),
            _key("contexts"),
            _key("texts"),
            _key("messages", chat_id),
            _key("message_chats"),
        ]
        await self._script(_FORGET_CHAT, keys, [PREFIX, chat_id])

    async def purge(self, older_than_days: float) -> int:
        """Delete reading texts and saved texts older than the retention period."""
        cutoff = _number(now() - older_than_days * 86400)
        removed = 0
        while True:
            chats, texts = await self._script(
                _PURGE_SLICE, [_key("contexts"), _key("texts")], [PREFIX, cutoff, PURGE_SLICE]
            )
            removed += chats + texts
            if max(chats, texts) < PURGE_SLICE:
                return removed

    # Rate limits and refusals, shared by every bot process
    def access_memory(self) -> RedisAccessMemory:
        return RedisAccessMemory(self)

    async def close(self) -> None:
        """Calls already made finish first; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        await self._idle.wait()
        await self.client.aclose()


class RedisAccessMemory:
    """`AccessMemory` in the store's Redis, so every bot process sees the same marks.

    Its clock is the wall clock, which bot processes on different hosts share.
    """

    def __init__(self, store: RedisStore) -> None:
        self.store = store

    def now(self) -> float:
        return time.time()

    async def hit(self, key: str, now: float, limit: int, window: float) -> float:
        # Each hit is its own member, so two processes counting at the same instant both count.
        args: list[str | int] = [
            _number(now),
            _number(now - window),
            limit,
            _ms(2 * window),
            uuid.uuid4().hex,
        ]
        return float(await self.store._script(_HIT, [_key(key)], args))

    async def first(self, key: str, now: float, within: float) -> bool:
        args: list[str | int] = [_number(now), _number(within), _ms(within)]
        return bool(await self.store._script(_FIRST, [_key(key)], args))


def _ms(seconds: float) -> int:
    """A key's lifetime in milliseconds, at least one."""
    return max(1, round(seconds * 1000))
