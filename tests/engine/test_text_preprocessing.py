"""pysentimiento's tweet normalisation, as RoBERTuito was trained on it, and who gets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.registry import MODEL_TRAITS, SPECS, ModelTraits, traits_for
from bot.engine.tasks.language import LanguageTask
from bot.engine.tasks.pos_tagging import PosTaggingTask
from bot.engine.text_preprocessing import (
    PYSENTIMIENTO,
    STYLES,
    normalize_text,
    normalize_word,
    preprocess_tweet,
)
from tests.engine.harness import LoadedTasks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # pysentimiento's own examples (tests/model_facts/pysentimiento_preprocessing.md)
        ("@perezjotaeme debería cambiar esto", "@usuario debería cambiar esto"),
        ("bueno https://t.co/LvRc5JJxvJ", "bueno url"),
        ("esto es #UnaGenialidad", "esto es hashtag una genialidad"),
        ("🤣", "emoji cara revolviéndose de la risa emoji"),
        ("jajajajaajjjajaajajaja no lo puedo creer ajajaj", "jaja no lo puedo creer jaja"),
        # repeated characters are cut to three
        ("holaaaaaa!!!!!", "holaaa!!!"),
        ("qué bieeeeen", "qué bieeen"),
        # links with or without a scheme, anywhere
        ("http://bit.ly/x hola", "url hola"),
        ("mira www.google.com/maps?q=cadiz.", "mira url."),
        # typographic characters as in pysentimiento's table
        ("«vale» … 10€", '"vale"  10$'),
        # laughter is normalised in lowercase only, as pysentimiento does
        ("JAJAJA", "JAJAJA"),
    ],
)
def test_tweets_read_as_robertuito_learnt_them(text: str, expected: str) -> None:
    assert preprocess_tweet(text) == expected


def test_emoji_become_spanish_words_between_markers() -> None:
    text = "Me encanta 😊👍🏽"
    assert preprocess_tweet(text) == (
        "Me encanta  emoji cara feliz con ojos sonrientes emoji  "
        "emoji pulgar hacia arriba tono de piel medio emoji"
    )


def test_a_whole_telegram_username_becomes_one_handle() -> None:
    assert preprocess_tweet("@un_usuario_de_telegram_largo hola") == "@usuario hola"


@pytest.mark.parametrize(
    "text",
    ["escríbeme a ana@correo.es", "a | b | c", "nos vemos @ casa", "hola.españa"],
)
def test_what_is_not_a_handle_a_link_or_an_emoji_is_left_alone(text: str) -> None:
    assert preprocess_tweet(text) == text


def test_a_word_the_normaliser_would_erase_stays_itself() -> None:
    assert normalize_word(PYSENTIMIENTO, "…") == "…"
    assert normalize_word(PYSENTIMIENTO, "#Hoy") == "hashtag hoy"
    assert normalize_word("", "#Hoy") == "#Hoy"


def test_plain_models_read_the_text_untouched_and_a_typo_fails_loudly() -> None:
    assert normalize_text("", "@ana 😊") == "@ana 😊"
    with pytest.raises(ValueError, match="pysentimento"):
        normalize_text("pysentimento", "hola")


def test_every_declared_preprocessing_exists() -> None:
    assert {traits.text_preprocessing for traits in MODEL_TRAITS.values()} <= STYLES


def test_the_robertuito_models_and_their_local_copies_ask_for_it(tmp_path: Path) -> None:
    assert traits_for("sentiment").text_preprocessing == PYSENTIMIENTO
    assert traits_for("pos").text_preprocessing == PYSENTIMIENTO
    assert traits_for("sentiment", str(tmp_path)).text_preprocessing == PYSENTIMIENTO
    seed = "finiteautomata/bertweet-base-sentiment-analysis"
    assert traits_for("sentiment", seed) == ModelTraits()
    assert SPECS["language"].default_model not in MODEL_TRAITS


def test_loading_gives_each_model_its_traits(loaded_tasks: LoadedTasks) -> None:
    """The stand-ins are local folders: each inherits its task default's traits."""
    _, language = loaded_tasks.get("language", LanguageTask)
    assert language.traits == ModelTraits()
    _, pos = loaded_tasks.get("pos", PosTaggingTask)
    assert pos.traits.text_preprocessing == PYSENTIMIENTO
