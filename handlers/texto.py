"""Plain messages: a question in question mode, otherwise a choice of what to do with the text.

In a group the bot only speaks when spoken to: a plain message that is neither a question in
question mode nor a reply to the bot gets an empty Reply, which the adapters send as nothing,
unless an administrator switched on /autotraducir (handlers/grupo.py). With /memoria on, every
text of the group is remembered first.
"""

from __future__ import annotations

import dataclasses
import logging

from bot import texts
from bot.request import Button, Reply, Request
from bot.services import Services
from bot.store import StoreError
from handlers import grupo, pregunta
from handlers.arguments import document_problem, visible
from handlers.commands import offered_rows
from handlers.contexto import length_problem

log = logging.getLogger(__name__)


async def handle(request: Request, services: Services) -> Reply:
    """Answers a question, offers the actions where spoken to, or stays quiet in a group."""
    question = visible(request.text)
    if not request.is_private:
        await grupo.remember_if_on(request, services)
    if question and await in_question_mode(request, services):
        return await pregunta.next_question(dataclasses.replace(request, text=question), services)
    if not (request.is_private or request.replies_to_bot):
        return await grupo.translate_if_on(request, services)
    if problem := document_problem(request, services.settings):
        return problem
    text = question or visible(request.document_text)
    if not text:
        return Reply.text(texts.SEND_SOME_TEXT)
    if too_long := length_problem(text, services):
        return too_long  # said now, not after a button that could never work
    return await offer_actions(request.chat_id, text, services)


async def in_question_mode(request: Request, services: Services) -> bool:
    """Whether the message is a question; group chatter never hears the store's apology."""
    try:
        return await pregunta.in_question_mode(request, services)
    except StoreError:
        if request.is_private or request.replies_to_bot:
            raise
        log.warning("could not read question mode in chat %s", request.chat_id, exc_info=True)
        return False


async def offer_actions(chat_id: int, text: str, services: Services) -> Reply:
    """Saves the text once and puts one button per action under the question "what do I do?"."""
    text_id = await services.store.save_text(chat_id, text)
    buttons = [
        [Button(texts.COMMAND_TEXTS[command].button, f"{command}:{text_id}") for command in row]
        for row in offered_rows()
    ]
    return Reply.text(texts.CHOOSE_ACTION, buttons=buttons)
