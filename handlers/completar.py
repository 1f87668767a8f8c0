"""/completar: the five likeliest words for each blank (<mask>, [MASK] or ___) in a text."""

from __future__ import annotations

import re

from bot import texts
from bot.engine.results import FillMaskResult, MaskCandidate
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, score_line, target_text, usage

# The spellings of a blank the fill_mask task accepts; checked here so that a text without
# one gets an example instead of a model run.
BLANK = re.compile(r"<mask>|\[mask\]|_{3,}", re.IGNORECASE)
MAX_BLANKS = 5
TOP_K = 5


async def handle(request: Request, services: Services) -> Reply:
    """Proposes words for the blanks of the text."""
    if problem := document_problem(request, services.settings):
        return problem
    text = target_text(request)
    if not text:
        return usage("completar")
    if problem := blanks_problem(text):
        return problem
    [result] = await services.engine.run("fill_mask", [text], top_k=TOP_K)
    return fill_reply(result)


def blanks_problem(text: str) -> Reply | None:
    """No blank at all, or more than the model fills at once."""
    count = len(BLANK.findall(text))
    if count == 0:
        example = escape(texts.COMMAND_TEXTS["completar"].example)
        return Reply.text(texts.MASK_MISSING.format(example=example))
    if count > MAX_BLANKS:
        return Reply.text(texts.MASK_TOO_MANY.format(count=count, limit=MAX_BLANKS))
    return None


def fill_reply(result: FillMaskResult) -> Reply:
    """The best completed sentence, then each blank's candidates with their bars."""
    lines = [texts.FILL_TITLE]
    several = len(result.masks) > 1
    for number, candidates in enumerate(result.masks, start=1):
        if several:
            lines += ["", texts.FILL_GAP_TITLE.format(number=number)]
        lines += candidate_lines(candidates)
    if len(result.masks) == 1 and result.masks[0]:
        lines += ["", texts.FILL_BEST.format(sentence=escape(result.masks[0][0].sequence))]
    if result.truncated:
        lines += ["", texts.TRUNCATED_NOTE]
    return Reply.text("\n".join(lines))


def candidate_lines(candidates: list[MaskCandidate]) -> list[str]:
    """One line per candidate word, likeliest first."""
    if not candidates:
        return [texts.FILL_NONE]
    return [score_line(f"<b>{escape(c.token)}</b>", c.score) for c in candidates]
