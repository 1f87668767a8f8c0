"""Telling Spanish from English on short everyday texts, with no model at all."""

from __future__ import annotations

import pytest

from bot.engine.spanish_english import guess_spanish_or_english

EVERYDAY_PHRASES: list[tuple[str, str]] = [
    ("hola", "es"), ("gracias", "es"), ("vale", "es"), ("hola amigo mío", "es"),
    ("Hola, ¿qué tal?", "es"), ("buenos días", "es"), ("buenas noches", "es"),
    ("te quiero", "es"), ("¿Dónde está el baño?", "es"), ("muchas gracias", "es"),
    ("lo siento", "es"), ("por favor", "es"), ("me encanta este libro", "es"),
    ("el gato come pescado", "es"), ("¿cómo estás?", "es"), ("hasta mañana", "es"),
    ("tengo hambre", "es"), ("no sé", "es"), ("qué bonito", "es"), ("estoy cansado", "es"),
    ("nos vemos luego", "es"), ("feliz cumpleaños", "es"), ("¡qué día tan bonito!", "es"),
    ("perdón", "es"), ("adiós", "es"),
    ("hello", "en"), ("thanks", "en"), ("I love you", "en"), ("ok", "en"),
    ("good morning", "en"), ("see you tomorrow", "en"), ("thank you very much", "en"),
    ("where is the station?", "en"), ("I'm tired", "en"), ("how are you?", "en"),
    ("what time is it?", "en"), ("happy birthday", "en"), ("I don't know", "en"),
    ("nice to meet you", "en"), ("the cat is sleeping", "en"), ("please help me", "en"),
    ("sorry", "en"), ("good night", "en"), ("let's go", "en"), ("hi there", "en"),
]  # fmt: skip


def test_at_least_95_percent_of_everyday_phrases_go_the_right_way() -> None:
    wrong = [
        (text, expected, guess_spanish_or_english(text).language)
        for text, expected in EVERYDAY_PHRASES
        if guess_spanish_or_english(text).language != expected
    ]
    assert len(EVERYDAY_PHRASES) >= 40
    assert len(wrong) <= 0.05 * len(EVERYDAY_PHRASES), wrong


@pytest.mark.parametrize(
    ("text", "language"), [("hola", "es"), ("gracias", "es"), ("hello", "en"), ("I love you", "en")]
)
def test_single_greetings_are_decided_with_certainty(text: str, language: str) -> None:
    guess = guess_spanish_or_english(text)
    assert guess.language == language and guess.sure


@pytest.mark.parametrize("text", ["Madrid", "1234", "😀😀", "xyzzy"])
def test_text_with_no_evidence_is_left_to_the_model(text: str) -> None:
    assert not guess_spanish_or_english(text).sure


def test_spelling_outweighs_a_borrowed_word() -> None:
    assert guess_spanish_or_english("el weekend fue genial, ¡qué pasada!").language == "es"
    assert guess_spanish_or_english("we had tapas and paella, it was great").language == "en"
