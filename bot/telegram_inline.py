"""Inline queries (`@Bot texto`) to answerInlineQuery: handlers/inline.py's results as articles."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError
from telegram.ext import ContextTypes, InlineQueryHandler

from bot.services import Services
from handlers.inline import InlineAnswer, answer_inline

log = logging.getLogger(__name__)


def inline_query_handler(services: Services) -> InlineQueryHandler[Any, Any]:
    """The PTB handler that answers every inline query through handlers/inline.py."""

    async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        answer = await answer_inline(query.query, query.from_user.id, services)
        try:
            await query.answer(articles(answer), cache_time=answer.cache_seconds, is_personal=True)
        except (BadRequest, Forbidden, NetworkError) as exc:  # e.g. the query is too old
            log.warning("could not answer inline query of user %s: %s", query.from_user.id, exc)

    return InlineQueryHandler(on_inline_query)


def articles(answer: InlineAnswer) -> list[InlineQueryResultArticle]:
    """Each result as an article whose message is its Telegram HTML."""
    return [
        InlineQueryResultArticle(
            id=result.id,
            title=result.title,
            description=result.description,
            input_message_content=InputTextMessageContent(
                result.message, parse_mode=ParseMode.HTML
            ),
        )
        for result in answer.results
    ]
