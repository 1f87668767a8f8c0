"""Rendering a Reply as Telegram messages: splits, keyboards, quotes, retries, plain fallback."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.formatting import html_to_plain, split_for_telegram
from bot.request import Reply, Request

log = logging.getLogger(__name__)

# How long a reply keeps trying while the Bot API is unreachable or flood control lasts.
SEND_GIVE_UP_S = 180.0


async def send_reply(
    bot: Bot,
    request: Request,
    reply: Reply,
    message: Message | None,
    replacing: int | None = None,
) -> None:
    """Render a Reply: split at 4096, keyboard on the last message, quote in groups.

    `replacing` is a message of ours (an answer that grew) that the first part is edited into.
    """
    chunks = [chunk for part in reply.parts for chunk in split_for_telegram(part)]
    markup = None
    if reply.buttons:
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                for row in reply.buttons
            ]
        )
    quote = None
    if message is not None and not request.is_private:
        quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    chat_id = request.chat_id
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        keys = markup if last else None
        if index == 0 and replacing and await _edit_text(bot, chat_id, replacing, chunk, keys):
            continue
        await _send_text(
            bot, request.chat_id, chunk, markup if last else None, quote if index == 0 else None
        )
    if (file := reply.file) is not None:
        await _with_retries(
            request.chat_id,
            lambda: bot.send_document(request.chat_id, file.content, filename=file.name),
        )


async def _send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    quote: ReplyParameters | None,
) -> None:
    try:
        await _with_retries(
            chat_id,
            lambda: bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=quote,
            ),
        )
    except BadRequest as exc:
        if "parse entities" not in str(exc).lower():
            raise
        log.warning("Telegram rejected our HTML (%s); resending as plain text", exc)
        await _with_retries(
            chat_id,
            lambda: bot.send_message(
                chat_id, html_to_plain(text), reply_markup=markup, reply_parameters=quote
            ),
        )


async def _edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Edit a message into `text`; False if it cannot be edited (then it is sent anew)."""

    def edit(content: str, mode: str | None) -> Any:
        return lambda: bot.edit_message_text(
            content, chat_id, message_id, parse_mode=mode, reply_markup=markup
        )

    try:
        try:
            await _with_retries(chat_id, edit(text, ParseMode.HTML))
        except BadRequest as exc:
            if "parse entities" not in str(exc).lower():
                raise
            log.warning("Telegram rejected our HTML (%s); editing in plain text", exc)
            await _with_retries(chat_id, edit(html_to_plain(text), None))
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True  # it already reads as the answer
        log.warning("could not edit the answer into message %s: %s", message_id, exc)
        return False
    return True


async def _with_retries(chat_id: int, send: Any) -> Any:
    """Honour flood control for this chat only; ride out a Bot API outage for a while."""
    deadline = time.monotonic() + SEND_GIVE_UP_S
    backoff = 0.5
    while True:
        try:
            return await send()
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            log.warning("flood control in chat %s: waiting %.1f s", chat_id, wait)
            if time.monotonic() + wait > deadline:
                raise
            await asyncio.sleep(wait)
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, BadRequest | Forbidden) or time.monotonic() > deadline:
                raise
            log.warning("Bot API unreachable (%s); retrying in %.1f s", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
