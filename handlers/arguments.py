"""Reading what a request is about, shared by every command."""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request


def target_text(request: Request) -> str:
    """The text a command works on: its argument, else the replied message, else a document."""
    for candidate in (request.text, request.reply_text, request.document_text):
        if candidate and candidate.strip():
            return candidate.strip()
    return ""


def usage(command: str, form: str) -> Reply:
    """The usage message a command answers with when it gets no text."""
    example = texts.EXAMPLES.get(command, f"/{command}")
    return Reply.text(texts.USAGE.format(usage=form, example=example))
