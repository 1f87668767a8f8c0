"""/contexto: the chat's reading text, which /pregunta answers from.

`/contexto <texto>`, a document (PDF, DOCX, HTML, Markdown, .txt) or a link (the page's main
text) replaces it; `/contexto` replying to a message adds that message to it, so a conversation
can be gathered message by message.
"""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import (
    char_count,
    document_problem,
    read_link,
    titled,
    usage,
    visible,
    word_count,
)


async def handle(request: Request, services: Services) -> Reply:
    """Replaces the reading text with the argument or document, or appends a replied message."""
    if problem := document_problem(request, services.settings):
        return problem
    for candidate in (request.text, request.document_text):
        if new_text := visible(candidate):
            target = await read_link(new_text, services)
            if target.problem:
                return target.problem
            return titled(
                await replace_reading_text(request.chat_id, target.text, services), target
            )
    if replied := visible(request.reply_text):
        target = await read_link(replied, services)
        if target.problem:
            return target.problem
        return titled(await append_reading_text(request.chat_id, target.text, services), target)
    return usage("contexto")


async def replace_reading_text(chat_id: int, text: str, services: Services) -> Reply:
    """Stores a new reading text for the chat."""
    if too_long := length_problem(text, services):
        return too_long
    await services.store.set_context(chat_id, text)
    return Reply.text(texts.CONTEXT_SET.format(chars=char_count(text), words=word_count(text)))


async def append_reading_text(chat_id: int, text: str, services: Services) -> Reply:
    """Adds a message to the end of the reading text, as a new paragraph."""
    current = await services.store.get_context(chat_id)
    combined = f"{current}\n\n{text}" if current else text
    if too_long := length_problem(combined, services):
        return too_long
    await services.store.set_context(chat_id, combined)
    template = texts.CONTEXT_APPENDED if current else texts.CONTEXT_SET
    return Reply.text(template.format(chars=char_count(combined), words=word_count(combined)))


def length_problem(text: str, services: Services) -> Reply | None:
    """A reading text longer than the engine accepts could never be asked about."""
    limit = services.settings.max_input_chars
    if len(text) <= limit:
        return None
    return Reply.text(texts.ERROR_TOO_LONG.format(length=len(text), limit=limit))
