"""/resumir: a summary of a text of any length (the engine summarises long texts in rounds)."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Summary
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, target_text, usage


async def handle(request: Request, services: Services) -> Reply:
    """Summarises the command's text, the replied message or the attached document."""
    if problem := document_problem(request, services.settings):
        return problem
    text = target_text(request)
    if not text:
        return usage("resumir")
    [summary] = await services.engine.run("summarize", [text])
    return summary_reply(summary)


def summary_reply(summary: Summary) -> Reply:
    """The summary under its title; a model that wrote nothing gets an honest sentence."""
    if not summary.text.strip():
        return Reply.text(texts.SUMMARY_EMPTY)
    lines = [texts.SUMMARY_TITLE, escape(summary.text.strip())]
    if summary.truncated:
        lines += ["", texts.SUMMARY_TRUNCATED]
    return Reply.text("\n".join(lines))
