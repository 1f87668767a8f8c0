"""/idioma: the Spanish name of the model's language code, how sure, and the runners-up."""

from __future__ import annotations

from bot import texts
from bot.engine.results import Classification, LabelScore
from handlers.idioma import language_reply
from tests.handlers.conftest import Chat, plain, requests_of


async def test_the_language_is_named_in_spanish_by_the_model(chat: Chat) -> None:
    reply = await chat.command("idioma", "Bonjour tout le monde, comment ça va ?")
    first_line = plain(reply).splitlines()[0]
    assert any(name in first_line for name in texts.LANGUAGE_NAMES.values())
    assert "\u00a0%" in first_line
    assert requests_of(chat.services, "language") == 1  # the model, not langdetect


def test_runners_up_are_listed_after_the_best() -> None:
    result = Classification(
        [
            LabelScore("fr", 0.80),
            LabelScore("it", 0.15),
            LabelScore("es", 0.04),
            LabelScore("pt", 0.005),
        ]
    )
    lines = plain(language_reply(result)).splitlines()
    assert "francés" in lines[0] and "80" in lines[0]
    assert "italiano" in lines[1] and "español" in lines[1]
    assert "portugués" not in lines[1]  # under 1 %: noise


def test_an_undetermined_language_is_said_plainly() -> None:
    reply = language_reply(Classification([LabelScore("und", 0.0)]))
    assert "%" not in plain(reply)


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("idioma", reply_text="   ")).startswith("Uso: /idioma")


async def test_a_short_text_is_answered_with_a_word_of_caution(chat: Chat) -> None:
    short = await chat.command("idioma", "Hola, ¿qué tal?")
    assert texts.LANGUAGE_TOO_SHORT in short.parts[0]
    long = await chat.command("idioma", "Hoy hace un día precioso para pasear por el parque.")
    assert texts.LANGUAGE_TOO_SHORT not in long.parts[0]
