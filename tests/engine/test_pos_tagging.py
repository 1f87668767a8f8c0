"""Part-of-speech tagging: every word tagged once, spans into the text, long texts in windows."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.labels import UPOS_TAGS
from bot.engine.registry import ModelTraits
from bot.engine.results import PosResult
from bot.engine.tasks.base import LoadedModel, Task
from bot.engine.tasks.pos_tagging import (
    PosTaggingTask,
    pack_words,
    split_words,
    word_pieces,
)
from bot.engine.tasks.text_classification import special_frame
from bot.engine.text_preprocessing import PYSENTIMIENTO
from tests.engine.harness import LoadedTasks, check_request, run_loaded

LONG_TEXT = (
    "El pingüino y la cigüeña comen ñoquis en Añón de Moncayo. ¡Qué bonito! "
    "Me encanta este día 😊 #felicidad @amiga, ¿verdad? Son las 8:30 y cuesta 3,14 euros…\n"
) * 150
LONG_TEXT = LONG_TEXT[:20_000]
ODD_TEXTS = [
    "😊👍🏽👨‍👩‍👧🇪🇸",
    "l'amour d’Artagnan rock'n'roll",
    "a\u200bb \ufeff cafe\u0301 _x_",
    "¿¡!?",
]


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> tuple[Task, LoadedModel]:
    return loaded_tasks.get("pos", PosTaggingTask)


def assert_tagged_once(text: str, result: PosResult) -> None:
    """Each word appears once, in order, at its span, and only spaces are left untagged."""
    assert isinstance(result, PosResult) and not result.truncated
    covered = [False] * len(text)
    previous_end = 0
    for word in result.words:
        assert text[word.start : word.end] == word.word != ""
        assert word.start >= previous_end
        previous_end = word.end
        covered[word.start : word.end] = [True] * (word.end - word.start)
        assert word.tag in UPOS_TAGS
        assert 0.0 <= word.score <= 1.0
    assert all(done or char.isspace() for done, char in zip(covered, text, strict=True))


async def test_every_word_is_tagged_exactly_once(loaded: tuple[Task, LoadedModel]) -> None:
    texts = ["¡Hola, María! ¿Qué tal?", *ODD_TEXTS]
    results, _ = await run_loaded(loaded, texts)
    for text, result in zip(texts, results, strict=True):
        assert_tagged_once(text, result)
    expected = ["¡", "Hola", ",", "María", "!", "¿", "Qué", "tal", "?"]
    assert [w.word for w in results[0].words] == expected


async def test_long_text_is_tagged_whole_in_windows(loaded: tuple[Task, LoadedModel]) -> None:
    _, lm = loaded
    features = PosTaggingTask().preprocess(lm, [LONG_TEXT], {})
    assert len(features) > 1
    assert all(f.length <= lm.max_length for f in features)
    results, ctx = await run_loaded(loaded, [LONG_TEXT])
    assert sum(ctx.forward_calls) == len(features)
    social = lm.traits.text_preprocessing == PYSENTIMIENTO
    assert len(results[0].words) == len(split_words(LONG_TEXT, social=social))
    assert_tagged_once(LONG_TEXT, results[0])


async def test_batched_equals_one_by_one(loaded: tuple[Task, LoadedModel]) -> None:
    inputs = ["El perro come pan.", LONG_TEXT[:3000], *ODD_TEXTS]
    together, _ = await run_loaded(loaded, inputs, batch_size=5)
    alone = [(await run_loaded(loaded, [text], batch_size=1))[0][0] for text in inputs]
    assert together == alone


async def test_text_without_words_has_no_tags(loaded: tuple[Task, LoadedModel]) -> None:
    results, ctx = await run_loaded(loaded, ["", "   \n"])
    assert results == [PosResult(), PosResult()]
    assert ctx.forward_calls == []


def test_words_keep_numbers_apostrophes_and_emoji_whole() -> None:
    words = [w for w, _, _ in split_words("Son 3,14 € l'amour 👍🏽 🇪🇸 👨‍👩‍👧 cafe\u0301...")]
    expected = ["Son", "3,14", "€", "l'amour", "👍🏽", "🇪🇸", "👨‍👩‍👧", "cafe\u0301", "."]
    assert words == [*expected, ".", "."]


def test_every_word_gets_at_least_one_token(loaded: tuple[Task, LoadedModel]) -> None:
    _, lm = loaded
    words = ["\u200b", "\ufeff", "\u0301", "👨‍👩‍👧", "Hola", "."]
    assert all(len(ids) >= 1 for ids in word_pieces(lm.tokenizer, words))


def test_windows_cover_all_words_and_prefer_sentence_ends() -> None:
    words = ["a", "b", ".", "c", "d", "e", "f", "g"]
    pieces = [[1]] * len(words)
    windows = pack_words(words, pieces, budget=4)
    assert [list(w) for w in windows] == [[0, 1, 2], [3, 4, 5, 6], [7]]
    oversize = pack_words(["x", "y"], [[1] * 10, [2]], budget=4)
    assert [list(w) for w in oversize] == [[0], [1]]


@pytest.mark.parametrize(("inputs", "params"), [("texto", {}), ([1], {}), (["hola"], {"k": 1})])
def test_validate_rejects_malformed_input(inputs: Any, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        check_request(PosTaggingTask(), inputs, params)


TWEET = "Hola @ana_perez, mira https://t.co/LvRc5JJxvJ 🤣 jajajaja #BuenDía!!!!"
TWEET_WORDS = ["Hola", "@ana_perez", ",", "mira", "https://t.co/LvRc5JJxvJ", "🤣", "jajajaja"]
TWEET_WORDS += ["#BuenDía", "!", "!", "!", "!"]
AS_TRAINED = ["Hola", "@usuario", ",", "mira", "url", "emoji cara revolviéndose de la risa emoji"]
AS_TRAINED += ["jaja", "hashtag buen día", "!", "!", "!", "!"]


def with_preprocessing(lm: LoadedModel, style: str) -> LoadedModel:
    return dataclasses.replace(lm, traits=ModelTraits(text_preprocessing=style))


def test_the_robertuito_stand_in_asks_for_pysentimiento(loaded: tuple[Task, LoadedModel]) -> None:
    assert loaded[1].traits.text_preprocessing == PYSENTIMIENTO


@pytest.mark.parametrize(
    ("style", "model_words"),
    [(PYSENTIMIENTO, AS_TRAINED), ("", None)],
)
def test_each_word_reaches_the_model_normalised_only_when_it_was_trained_so(
    loaded: tuple[Task, LoadedModel], style: str, model_words: list[str] | None
) -> None:
    lm = with_preprocessing(loaded[1], style)
    [feature] = PosTaggingTask().preprocess(lm, [TWEET], {})
    if model_words is None:  # a plain model reads the text's own words, links in pieces
        model_words = [word for word, _, _ in split_words(TWEET)]
    else:
        assert [word for word, _, _ in feature.meta["words"]] == TWEET_WORDS
    pieces = word_pieces(lm.tokenizer, model_words)
    prefix, suffix = special_frame(lm.tokenizer)
    assert feature.input_ids == prefix + [t for ids in pieces for t in ids] + suffix
    # Each word is read at its first token: an emoji's tag is that of "emoji", its first piece.
    starts = [len(prefix) + sum(len(ids) for ids in pieces[:i]) for i in range(len(pieces))]
    assert feature.meta["firsts"] == starts


async def test_tags_land_on_the_users_own_words(loaded: tuple[Task, LoadedModel]) -> None:
    task, lm = loaded
    [result], _ = await run_loaded((task, with_preprocessing(lm, PYSENTIMIENTO)), [TWEET])
    assert [word.word for word in result.words] == TWEET_WORDS
    assert_tagged_once(TWEET, result)
    handle = result.words[1]
    assert (handle.start, handle.end) == (5, 15)


async def test_prefixed_and_older_tags_come_out_as_upos(
    loaded: tuple[Task, LoadedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lm = loaded
    count = lm.model.config.num_labels
    lince = ["B-CONJ", "B-UNK", "I-NOUN", "B-PUNCT", "b-verb"]
    id2label = {i: lince[i % len(lince)] for i in range(count)}
    monkeypatch.setattr(lm.model.config, "id2label", id2label)
    [result], _ = await run_loaded(loaded, ["El gato come pescado y bebe leche."])
    assert {word.tag for word in result.words} <= {"CCONJ", "X", "NOUN", "PUNCT", "VERB"}
