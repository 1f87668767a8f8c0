"""A request's progress in Telegram: one message, sent at once and edited in place.

Edits come at most every EDIT_EVERY_S, each with the newest text (the ones in between are
skipped), and flood control's wait is honoured. When the answer is ready the adapter stops the
message and deletes it once the answer is sent, so the answer takes its place.

An answer that grows (`grow`) shows up once the request has taken GROW_AFTER_S (a quick
answer simply arrives whole), then is edited in at most every GROW_EVERY_S; that message then
becomes the answer: the adapter edits the whole reply into it (`take`) instead of deleting it.
Flood control while it grows stops the partial edits: the final reply waits it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError

from bot.formatting import split_for_telegram

log = logging.getLogger(__name__)

# Telegram tolerates about one edit a second per chat; every 2 s leaves room for the answer.
EDIT_EVERY_S = 2.0
# A growing answer is what the user waits for: as often as Telegram tolerates.
GROW_EVERY_S = 1.0
GROW_AFTER_S = 1.0


class ProgressMessage:
    """The ProgressSink of one Telegram request (see bot/progress.py)."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        every: float = EDIT_EVERY_S,
        grow_every: float = GROW_EVERY_S,
        grow_after: float = GROW_AFTER_S,
        reply_to: int | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.every = every
        self.grow_every = grow_every
        self.grow_after = grow_after
        self._started = time.monotonic()
        self.reply_to = reply_to  # the message a growing answer quotes, as the answer would
        self.message_id: int | None = None
        self.grown = False
        """Whether the message shows a partial answer (so it becomes the answer)."""
        self._growing = False
        self._flooded = False
        self._wanted: str | None = None
        self._shown: str | None = None
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def show(self, text: str) -> None:
        if self._stopping.is_set() or self._growing:
            return  # a partial answer is never replaced by progress
        self._want(text)

    def grow(self, text: str) -> None:
        """Show the answer written so far (its first message's worth) where it will be."""
        if self._stopping.is_set() or self._flooded:
            return
        self._growing = True
        self._want(split_for_telegram(text)[0])

    def take(self) -> int | None:
        """The message with a partial answer, for the final reply to be edited in; it is no
        longer ours to delete. None when no partial answer was shown."""
        if not self.grown:
            return None
        message_id, self.message_id = self.message_id, None
        return message_id

    def _want(self, text: str) -> None:
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
            if self._growing and self.message_id is None:  # a quick answer arrives whole
                await self._pause(self._started + self.grow_after - time.monotonic())
                if self._stopping.is_set():
                    return
            text = self._wanted
            if text is None or text == self._shown:
                continue
            await self._pause(await self._put(text))
            if self._flooded:
                return

    async def _put(self, text: str) -> float:
        """Send the message or edit it; the seconds to wait before the next edit."""
        growing = self._growing
        try:
            if self.message_id is None:
                quote = None
                if growing and self.reply_to is not None:
                    quote = ReplyParameters(self.reply_to, allow_sending_without_reply=True)
                message = await self.bot.send_message(
                    self.chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    disable_notification=True,  # the answer is what the phone announces
                    reply_parameters=quote,
                )
                self.message_id = message.message_id
            else:
                await self.bot.edit_message_text(
                    text, self.chat_id, self.message_id, parse_mode=ParseMode.HTML
                )
            self._shown = text
            self.grown = growing
        except RetryAfter as exc:
            if growing:  # no more partial edits: the final reply waits flood control out
                log.info("flood control in chat %s: the answer stops growing", self.chat_id)
                self._flooded = True
                return 0.0
            self._changed.set()  # the newest text goes out once flood control allows
            wait = exc.retry_after
            return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        except TelegramError as exc:
            log.warning("could not show progress in chat %s: %s", self.chat_id, exc)
        return self.grow_every if growing else self.every

    async def _pause(self, seconds: float) -> None:
        """Wait between edits; a stop ends the wait at once."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
