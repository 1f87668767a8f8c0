"""/sentimiento: positive, negative or neutral, with the score of each."""

from __future__ import annotations

from bot import texts
from bot.engine.labels import normalize_label
from bot.engine.results import Classification
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
    """Positive, negative or neutral in Spanish; a label we cannot name is never shown raw."""
    return texts.SENTIMENT_NAMES.get(
        normalize_label("sentiment", label), texts.SENTIMENT_UNKNOWN_NAME
    )


def sentiment_reply(result: Classification) -> Reply:
    """The winning sentiment in words, then every sentiment's bar."""
    best = result.best
    emoji = texts.SENTIMENT_EMOJI.get(normalize_label("sentiment", best.label), "")
    lines = [
        texts.SENTIMENT_TITLE.format(name=sentiment_name(best.label), emoji=emoji).rstrip(),
        "",
    ]
    lines += [score_line(sentiment_name(item.label), item.score) for item in result.labels]
    if result.truncated:
        lines += ["", texts.TRUNCATED_NOTE]
    return Reply.text("\n".join(lines))
