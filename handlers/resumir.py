"""/resumir: a summary of a text of any length (the engine summarises long texts in rounds)."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Summary
from bot.formatting import escape
from bot.progress import growing
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import read_target, titled, usage


async def handle(request: Request, services: Services) -> Reply:
    """Summarises the command's text, the replied message, the document or the linked page."""
    target = await read_target(request, services)
    if target.problem:
        return target.problem
    if not target.text:
        return usage("resumir")
    with growing(growing_summary):
        [summary] = await services.engine.run("summarize", [target.text])
    return titled(summary_reply(summary), target)


def growing_summary(partial: Summary) -> str:
    """A long text's chunk summaries so far, in order, as the reply words a summary."""
    return summary_reply(partial).parts[0] if partial.text.strip() else ""


def summary_reply(summary: Summary) -> Reply:
    """The summary under its title; a model that wrote nothing gets an honest sentence."""
    if not summary.text.strip():
        return Reply.text(texts.SUMMARY_EMPTY)
    lines = [texts.SUMMARY_TITLE, escape(summary.text.strip())]
    if summary.truncated:
        lines += ["", texts.SUMMARY_TRUNCATED]
    return Reply.text("\n".join(lines))
