"""/resumen_chat [N]: a summary of a group's last N remembered messages, saying who took part.

The summariser reads the messages as a dialogue, one "Name: text" line each, so it can tell
who said what; the participants line under the summary is counted, not written by the model.
"""

from __future__ import annotations

from collections import Counter

from bot import texts
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from bot.store import GroupMessage
from handlers import grupo
from handlers.arguments import usage

DEFAULT_COUNT = 50
MAX_COUNT = grupo.MEMORY_KEEP


async def handle(request: Request, services: Services) -> Reply:
    """Summarises the last N messages of a group whose memory is on."""
    if request.is_private:
        return Reply.text(texts.GROUPS_ONLY)
    count = wanted_count(request.text)
    if count is None:
        return usage("resumen_chat")
    if grupo.MEMORY not in await services.store.group_options(request.chat_id):
        return Reply.text(texts.CHAT_SUMMARY_MEMORY_OFF)
    max_age = services.settings.group_memory_seconds
    messages = await services.store.recent_messages(request.chat_id, count, max_age)
    if not messages:
        return Reply.text(texts.CHAT_SUMMARY_NOTHING.format(duration=grupo.duration(max_age)))
    fitting = newest_that_fit(messages, services.settings.max_input_chars)
    [summary] = await services.engine.run("summarize", [dialogue(fitting)])
    return summary_reply(fitting, summary.text, summary.truncated, cut=len(fitting) < len(messages))


def wanted_count(text: str) -> int | None:
    """N from "/resumen_chat N": 50 when absent, at most 200; None when it is no number."""
    word = text.strip()
    if not word:
        return DEFAULT_COUNT
    if not word.isdecimal() or int(word) < 1:
        return None
    return min(int(word), MAX_COUNT)


def dialogue(messages: list[GroupMessage]) -> str:
    """The summariser's input: one "Name: text" line per message, oldest first."""
    return "\n".join(f"{m.author}: {' '.join(m.text.split())}" for m in messages)


def newest_that_fit(messages: list[GroupMessage], max_chars: int) -> list[GroupMessage]:
    """The newest messages whose dialogue stays within MAX_INPUT_CHARS (at least one)."""
    kept: list[GroupMessage] = []
    total = 0
    for message in reversed(messages):
        total += len(dialogue([message])) + 1
        if kept and total > max_chars:
            break
        kept.append(message)
    kept.reverse()
    return kept


def participants(messages: list[GroupMessage]) -> str:
    """ "Ana (12), Bea (8)": who wrote, most messages first, then by first appearance."""
    counts = Counter(m.author for m in messages)
    return ", ".join(
        texts.CHAT_SUMMARY_PERSON.format(name=escape(name), count=count)
        for name, count in counts.most_common()
    )


def summary_reply(messages: list[GroupMessage], summary: str, truncated: bool, cut: bool) -> Reply:
    """Title with the count, the participants, the summary, and notes on what it left out."""
    if len(messages) == 1:
        title = texts.CHAT_SUMMARY_TITLE_ONE
    else:
        title = texts.CHAT_SUMMARY_TITLE.format(count=texts.MESSAGES.count(len(messages)))
    lines = [title, texts.CHAT_SUMMARY_PARTICIPANTS.format(people=participants(messages)), ""]
    lines.append(escape(summary.strip()) if summary.strip() else texts.SUMMARY_EMPTY)
    if cut:
        lines += ["", texts.CHAT_SUMMARY_CUT.format(count=texts.MESSAGES.count(len(messages)))]
    if truncated:
        lines += ["", texts.SUMMARY_TRUNCATED]
    return Reply.text("\n".join(lines))
