"""A request's progress in Telegram: one message, sent at once and edited in place.

Edits come at most every EDIT_EVERY_S, each with the newest text (the ones in between are
skipped), and flood control's wait is honoured. When the answer is ready the adapter stops the
message and deletes it once the answer is sent, so the answer takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError

log = logging.getLogger(__name__)

# Telegram tolerates about one edit a second per chat; every 2 s leaves room for the answer.
EDIT_EVERY_S = 2.0


class ProgressMessage:
    """The ProgressSink of one Telegram request (see bot/progress.py)."""

    def __init__(self, bot: Bot, chat_id: int, every: float = EDIT_EVERY_S) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.every = every
        self.message_id: int | None = None
        self._wanted: str | None = None
        self._shown: str | None = None
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def show(self, text: str) -> None:
        if self._stopping.is_set():
            return
        self._wanted = text
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._render(), name=f"progress-{self.chat_id}")

    async def stop(self) -> None:
        """No more edits; waits for a send or edit in flight, so the message id is known."""
        self._stopping.set()
        self._changed.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def delete(self) -> None:
        """Remove the message, if one was sent; the answer has taken its place."""
        await self.stop()
        if self.message_id is None:
            return
        message_id, self.message_id = self.message_id, None
        try:
            await self.bot.delete_message(self.chat_id, message_id)
        except TelegramError as exc:
            log.warning("could not delete the progress message in chat %s: %s", self.chat_id, exc)

    async def _render(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            if self._stopping.is_set():
                return
            text = self._wanted
            if text is None or text == self._shown:
                continue
            await self._pause(await self._put(text))

    async def _put(self, text: str) -> float:
        """Send the message or edit it; the seconds to wait before the next edit."""
        try:
            if self.message_id is None:
                message = await self.bot.send_message(
                    self.chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    disable_notification=True,  # the answer is what the phone announces
                )
                self.message_id = message.message_id
            else:
                await self.bot.edit_message_text(
                    text, self.chat_id, self.message_id, parse_mode=ParseMode.HTML
                )
            self._shown = text
        except RetryAfter as exc:
            self._changed.set()  # the newest text goes out once flood control allows
            wait = exc.retry_after
            return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        except TelegramError as exc:
            log.warning("could not show progress in chat %s: %s", self.chat_id, exc)
        return self.every

    async def _pause(self, seconds: float) -> None:
        """Wait between edits; a stop ends the wait at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
