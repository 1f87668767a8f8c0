"""/pos: every word of a text with its part of speech, named in Spanish, one word per line."""

from __future__ import annotations

from bot import texts
from bot.engine.labels import normalize_label
from bot.engine.results import PosResult, TaggedWord
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, target_text, usage

SENTENCE_ENDS = frozenset(".!?…")


async def handle(request: Request, services: Services) -> Reply:
    """Tags the text's words."""
    if problem := document_problem(request, services.settings):
        return problem
    text = target_text(request)
    if not text:
        return usage("pos")
    [result] = await services.engine.run("pos", [text])
    return pos_reply(result)


def tag_name(tag: str) -> str:
    """A part of speech in Spanish; a tag we cannot name reads as "another category", never raw."""
    return texts.POS_NAMES.get(normalize_label("pos", tag), texts.POS_UNKNOWN_NAME)


def is_word(item: TaggedWord) -> bool:
    """Punctuation and emoji are tagged too, but listing them only adds noise on a phone."""
    return any(ch.isalnum() for ch in item.word)


def pos_reply(result: PosResult) -> Reply:
    """One word per line; a blank line where a sentence ends, so long texts stay readable."""
    lines = [texts.POS_TITLE]
    for item in result.words:
        if is_word(item):
            lines.append(texts.POS_LINE.format(word=escape(item.word), name=tag_name(item.tag)))
        elif item.word in SENTENCE_ENDS and lines[-1]:
            lines.append("")
    while lines[-1] == "":
        lines.pop()
    if len(lines) == 1:
        return Reply.text(texts.POS_NO_WORDS)
    if result.truncated:
        lines += ["", texts.TRUNCATED_NOTE]
    return Reply.text("\n".join(lines))
