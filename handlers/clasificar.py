"""/clasificar <texto> | etiqueta, etiqueta: how well each label fits the text, best first."""

from __future__ import annotations

import dataclasses

from bot import texts
from bot.engine.results import Classification, ZeroShotInput
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, score_line, target_text, usage

LABEL_SEPARATOR = "|"
MAX_LABELS = 10
"""Each label is one more model pass, and more than ten no longer reads well on a phone."""
MAX_LABEL_CHARS = 60


async def handle(request: Request, services: Services) -> Reply:
    """Scores the text against the user's labels, or the default ones."""
    text, labels = split_labels(request)
    if labels is None:
        labels = list(services.settings.default_labels)
    elif problem := labels_problem(labels):
        return problem
    if problem := document_problem(dataclasses.replace(request, text=text), services.settings):
        return problem
    if not text:
        return usage("clasificar")
    [result] = await services.engine.run("zero_shot", [ZeroShotInput(text, tuple(labels))])
    return classification_reply(result, custom_labels=labels != services.settings.default_labels)


def split_labels(request: Request) -> tuple[str, list[str] | None]:
    """The text and the labels after "|" (None when the user gave no "|")."""
    argument = request.text
    if LABEL_SEPARATOR not in argument:
        return target_text(request), None
    text, _, label_part = argument.rpartition(LABEL_SEPARATOR)
    labels: list[str] = []
    for label in label_part.split(","):
        label = " ".join(label.split())
        if label and label not in labels:
            labels.append(label)
    # "/clasificar | a, b" replying to a message classifies that message.
    return target_text(dataclasses.replace(request, text=text)), labels


def labels_problem(labels: list[str]) -> Reply | None:
    """Labels the user wrote that we refuse before any model runs."""
    if not labels:
        example = texts.COMMAND_TEXTS["clasificar"].example
        return Reply.text(texts.CLASSIFY_NO_LABELS.format(example=escape(example)))
    if len(labels) > MAX_LABELS:
        return Reply.text(
            texts.CLASSIFY_TOO_MANY_LABELS.format(count=len(labels), limit=MAX_LABELS)
        )
    if any(len(label) > MAX_LABEL_CHARS for label in labels):
        return Reply.text(texts.CLASSIFY_LABEL_TOO_LONG.format(limit=MAX_LABEL_CHARS))
    return None


def classification_reply(result: Classification, custom_labels: bool) -> Reply:
    """One line per label, best first, each with its bar and percentage."""
    lines = [texts.CLASSIFY_TITLE]
    lines += [score_line(f"<b>{escape(item.label)}</b>", item.score) for item in result.labels]
    if result.truncated:
        lines += ["", texts.TRUNCATED_NOTE]
    if not custom_labels:
        lines += ["", texts.CLASSIFY_DEFAULT_LABELS]
    return Reply.text("\n".join(lines))
