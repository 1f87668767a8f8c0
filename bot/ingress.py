"""`python -m bot ingress`: receives Telegram's updates and appends each to the Redis stream.

Long polling, or the webhook when WEBHOOK_URL is set. PTB's Updater does the receiving; its
queue is a `StreamQueue`, whose `put` returns only once the update is in Redis. So the webhook
answers Telegram after the append (PTB answers when `put` returns; an error answers 500 and
Telegram sends the update again), and polling confirms an update to Telegram (the next
getUpdates offset) only after it was appended. Workers (bot/worker.py) answer the updates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from redis.exceptions import RedisError
from telegram import Bot, Update
from telegram.ext import Updater

from bot.config import Settings
from bot.runtime import stop_signals
from bot.telegram_app import WEBHOOK_PATH
from bot.update_stream import UpdateStream

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 10
# A webhook call waits this long for Redis before answering 500: Telegram retries later, and
# meanwhile its other deliveries are not held up.
WEBHOOK_GIVE_UP_S = 10.0
MAX_BACKOFF_S = 5.0


class StreamQueue(asyncio.Queue[object]):
    """The Updater's queue, writing through to the update stream instead of holding updates."""

    def __init__(self, stream: UpdateStream, give_up_s: float | None) -> None:
        """`give_up_s`: how long `put` retries an unreachable Redis (None: until it answers)."""
        super().__init__()
        self.stream = stream
        self.give_up_s = give_up_s

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self.append(item)
        else:
            log.warning("ignored a %s from the updater", type(item).__name__)

    async def append(self, update: Update) -> None:
        """Into its chat's partition, once per update id; raises RedisError after give_up_s."""
        chat, user = update.effective_chat, update.effective_user
        chat_id = chat.id if chat else user.id if user else update.update_id
        data = update.to_dict()
        started = time.monotonic()
        backoff = 0.1
        while True:
            try:
                added = await self.stream.append(data, update.update_id, chat_id)
                break
            except (RedisError, OSError) as exc:
                waited = time.monotonic() - started
                if self.give_up_s is not None and waited + backoff > self.give_up_s:
                    raise
                log.error(
                    "could not append update %d to Redis (%s); retrying in %.1f s",
                    update.update_id,
                    exc,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        if not added:
            log.info("update %d was appended before: dropped", update.update_id)


async def serve_ingress(settings: Settings) -> None:
    """Receive and append until SIGINT/SIGTERM; what was received is appended before exit."""
    assert settings.token is not None
    stream = await UpdateStream.open(settings.redis_url, settings.update_partitions)
    try:
        webhook = bool(settings.webhook_url)
        queue = StreamQueue(stream, WEBHOOK_GIVE_UP_S if webhook else None)
        bot = Bot(
            settings.token,
            base_url=settings.telegram_base_url,
            base_file_url=settings.telegram_base_file_url,
        )
        updater = Updater(bot=bot, update_queue=queue)
        await updater.initialize()
        try:
            with stop_signals() as shutdown:
                if webhook:
                    secret = settings.webhook_secret
                    await updater.start_webhook(
                        listen=settings.webhook_listen,
                        port=settings.webhook_port,
                        url_path=WEBHOOK_PATH,
                        webhook_url=settings.webhook_url,
                        secret_token=secret.get_secret_value() if secret else None,
                        drop_pending_updates=False,
                    )
                else:
                    await updater.start_polling(
                        poll_interval=0.0,
                        timeout=dt.timedelta(seconds=POLL_TIMEOUT_S),
                        drop_pending_updates=False,
                    )
                log.info(
                    "Tertulia ingress is running (%s, %d partitions)",
                    "webhook" if webhook else "polling",
                    settings.update_partitions,
                )
                await shutdown.requested.wait()
        finally:
            if updater.running:
                await updater.stop()
            await updater.shutdown()
    finally:
        await stream.close()
    log.info("Tertulia ingress stopped")
