"""/sentimiento: positive, negative or neutral, with the score of each."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Classification
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, score_line, target_text, usage


async def handle(request: Request, services: Services) -> Reply:
    """Reads the text's sentiment."""
    if problem := document_problem(request, services.settings):
        return problem
    text = target_text(request)
    if not text:
        return usage("sentimiento")
    [result] = await services.engine.run("sentiment", [text])
    return sentiment_reply(result)


def sentiment_name(label: str) -> str:
    """POS/NEG/NEU in Spanish words (another model's own label, escaped, otherwise)."""
    return texts.SENTIMENT_NAMES.get(label.upper(), escape(label))


def sentiment_reply(result: Classification) -> Reply:
    """The winning sentiment in words, then every sentiment's bar."""
    best = result.best
    lines = [
        texts.SENTIMENT_TITLE.format(
            name=sentiment_name(best.label), emoji=texts.SENTIMENT_EMOJI.get(best.label.upper(), "")
        ).rstrip(),
        "",
    ]
    lines += [score_line(sentiment_name(item.label), item.score) for item in result.labels]
    if result.truncated:
        lines += ["", texts.TRUNCATED_NOTE]
    return Reply.text("\n".join(lines))
