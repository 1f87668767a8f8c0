"""/traducir: the direction follows the text's language unless the user forces it."""

from __future__ import annotations

import pytest

from bot import texts
from bot.engine.results import Translation
from handlers.traducir import translation_reply
from tests.handlers.conftest import Chat, plain, requests_of

SPANISH = "Hoy hace un día precioso y vamos a pasear por el parque con los niños."
ENGLISH = "Today is a beautiful day and we are going for a walk in the park."
FRENCH = "Aujourd'hui il fait très beau et nous allons nous promener dans le parc."


async def test_spanish_is_translated_into_english(chat: Chat) -> None:
    reply = await chat.command("traducir", SPANISH)
    assert reply.parts
    assert requests_of(chat.services, "translate_es_en") == 1
    assert requests_of(chat.services, "translate_en_es") == 0


async def test_english_is_translated_into_spanish(chat: Chat) -> None:
    await chat.command("traducir", ENGLISH)
    assert requests_of(chat.services, "translate_en_es") == 1
    assert requests_of(chat.services, "translate_es_en") == 0


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("hola", "translate_es_en"),
        ("gracias", "translate_es_en"),
        ("vale", "translate_es_en"),
        ("hola amigo mío", "translate_es_en"),
        ("hello", "translate_en_es"),
        ("thanks", "translate_en_es"),
        ("I love you", "translate_en_es"),
        ("ok", "translate_en_es"),
    ],
)
async def test_a_word_or_two_goes_the_right_way_without_the_language_model(
    chat: Chat, text: str, task: str
) -> None:
    reply = await chat.command("traducir", text)
    source, target = ("español", "inglés") if task == "translate_es_en" else ("inglés", "español")
    assert requests_of(chat.services, task) == 1
    assert f"{source} → {target}" in plain(reply)
    assert requests_of(chat.services, "language") == 0  # the words alone decided


async def test_a_short_text_with_no_telling_words_asks_the_language_model(chat: Chat) -> None:
    await chat.command("traducir", "Barcelona")
    assert requests_of(chat.services, "language") == 1
    translations = requests_of(chat.services, "translate_es_en") + requests_of(
        chat.services, "translate_en_es"
    )
    assert translations == 1


async def test_another_language_is_named_in_spanish_and_not_translated(chat: Chat) -> None:
    reply = await chat.command("traducir", FRENCH)
    assert "francés" in plain(reply)
    assert "en:" in plain(reply) and "es:" in plain(reply)  # how to force a direction
    assert requests_of(chat.services, "translate_es_en") == 0
    assert requests_of(chat.services, "translate_en_es") == 0


async def test_text_without_letters_asks_for_a_direction(chat: Chat) -> None:
    reply = await chat.command("traducir", "12345 !!!")
    assert reply.parts
    assert requests_of(chat.services, "translate_es_en") == 0


async def test_the_user_can_force_the_direction(chat: Chat) -> None:
    await chat.command("traducir", "EN: Bonjour")
    assert requests_of(chat.services, "translate_es_en") == 1
    await chat.command("traducir", "es:The park")
    assert requests_of(chat.services, "translate_en_es") == 1


async def test_forced_direction_applies_to_the_replied_message(chat: Chat) -> None:
    await chat.command("traducir", "es:", reply_text=SPANISH)
    assert requests_of(chat.services, "translate_en_es") == 1


async def test_replied_message_is_translated(chat: Chat) -> None:
    reply = await chat.command("traducir", reply_text=SPANISH)
    assert reply.parts
    assert requests_of(chat.services, "translate_es_en") == 1


async def test_empty_command_gives_usage(chat: Chat) -> None:
    reply = await chat.command("traducir", "  ")
    assert plain(reply).startswith("Uso: /traducir")
    assert requests_of(chat.services, "translate_es_en") == 0


async def test_unreadable_document_is_explained(chat: Chat) -> None:
    reply = await chat.command("traducir", document_error="not_text")
    assert reply.parts == [texts.ERROR_DOCUMENT_KIND]


def test_translation_is_escaped_and_a_cut_is_noted() -> None:
    reply = translation_reply(Translation("1 < 2 & <b>", "en", "es", truncated=True))
    assert "1 &lt; 2 &amp; &lt;b&gt;" in reply.parts[0]
    assert texts.TRANSLATION_TRUNCATED in reply.parts[0]


def test_empty_translation_still_says_something() -> None:
    assert translation_reply(Translation("  ", "es", "en")).parts == [texts.TRANSLATION_EMPTY]


async def test_a_short_text_in_another_script_is_refused_with_its_language(chat: Chat) -> None:
    reply = await chat.command("traducir", "Привет, как дела сегодня?")
    assert "ruso" in plain(reply)
    assert requests_of(chat.services, "translate_es_en") == 0
