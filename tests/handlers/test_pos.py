"""/pos: each word with its part of speech in Spanish, one per line."""

from __future__ import annotations

from bot import texts
from bot.engine.labels import UPOS_TAGS
from bot.engine.results import PosResult, TaggedWord
from handlers.pos import pos_reply
from tests.handlers.conftest import Chat, plain

SENTENCE = "El gato de María duerme en el sofá. ¡Qué bonito!"


def test_every_upos_tag_has_a_spanish_name() -> None:
    assert set(texts.POS_NAMES) == set(UPOS_TAGS)
    assert texts.POS_NAMES["NOUN"] == "sustantivo"


async def test_each_word_gets_a_line_with_its_spanish_tag(chat: Chat) -> None:
    reply = await chat.command("pos", SENTENCE)
    lines = [line for line in plain(reply).splitlines()[1:] if line]
    words = [line.split(" — ")[0] for line in lines]
    assert words == ["El", "gato", "de", "María", "duerme", "en", "el", "sofá", "Qué", "bonito"]
    names = set(texts.POS_NAMES.values())
    assert all(line.split(" — ")[1] in names for line in lines)


async def test_sentences_are_separated_by_a_blank_line(chat: Chat) -> None:
    reply = await chat.command("pos", SENTENCE)
    assert "sofá — " in plain(reply)
    assert "\n\nQué — " in plain(reply)


async def test_a_long_text_is_tagged_whole(chat: Chat) -> None:
    text = " ".join([SENTENCE] * 60)
    reply = await chat.command("pos", text)
    assert plain(reply).count(" — ") == 10 * 60


def test_words_are_escaped_and_unknown_tags_never_shown_raw() -> None:
    result = PosResult([TaggedWord("a&b", "WEIRD<", 0.5, 0, 3)])
    assert f"a&amp;b — <i>{texts.POS_UNKNOWN_NAME}</i>" in pos_reply(result).parts[0]


def test_tags_as_another_tag_set_spells_them_are_named_in_spanish() -> None:
    words = [TaggedWord("y", "B-CONJ", 0.9, 0, 1), TaggedWord("ok", "B-UNK", 0.9, 2, 4)]
    text = plain(pos_reply(PosResult(words)))
    assert "y — conjunción coordinante" in text
    assert f"ok — {texts.POS_NAMES['X']}" in text


async def test_handles_links_and_emoji_are_tagged_as_the_user_wrote_them(chat: Chat) -> None:
    reply = await chat.command("pos", "Hola @ana_perez mira https://t.co/x 😊 jajajaja")
    words = [line.split(" — ")[0] for line in plain(reply).splitlines()[1:] if line]
    assert words == ["Hola", "@ana_perez", "mira", "https://t.co/x", "jajajaja"]


async def test_only_punctuation_has_no_words_to_tag(chat: Chat) -> None:
    assert (await chat.command("pos", "¡¿...?!")).parts == [texts.POS_NO_WORDS]


async def test_empty_command_gives_usage(chat: Chat) -> None:
    assert plain(await chat.command("pos")).startswith("Uso: /pos")
