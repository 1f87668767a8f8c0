"""/sentimiento: positive, negative or neutral, in Spanish, with each score."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Classification, LabelScore
from handlers.sentimiento import sentiment_reply
from tests.handlers.conftest import Chat, plain, requests_of


async def test_sentiment_is_named_in_spanish_with_every_score(chat: Chat) -> None:
    reply = await chat.command("sentimiento", "¡Me encantó la película, qué maravilla!")
    text = plain(reply)
    for name in texts.SENTIMENT_NAMES.values():
        assert name in text
    assert text.count("\u00a0%") == 3
    assert "POS" not in text and "NEG" not in text
    assert requests_of(chat.services, "sentiment") == 1


def test_the_winner_is_the_first_line() -> None:
    result = Classification(
        [LabelScore("NEG", 0.7), LabelScore("NEU", 0.2), LabelScore("POS", 0.1)]
    )
    first_line = plain(sentiment_reply(result)).splitlines()[0]
    assert "negativo" in first_line


def test_other_spellings_are_named_and_unknown_labels_never_shown_raw() -> None:
    result = Classification(
        [LabelScore("positive", 0.6), LabelScore("joy", 0.3), LabelScore("LABEL_1", 0.1)]
    )
    text = plain(sentiment_reply(result))
    assert text.splitlines()[0].startswith("Sentimiento: positivo")
    assert texts.SENTIMENT_UNKNOWN_NAME in text
    assert "joy" not in text and "LABEL_1" not in text and "positive" not in text


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("sentimiento")).startswith("Uso: /sentimiento")
