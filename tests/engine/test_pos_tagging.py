"""Part-of-speech tagging: every word tagged once, spans into the text, long texts in windows."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.results import PosResult
from bot.engine.tasks.base import LoadedModel, Task
from bot.engine.tasks.pos_tagging import (
    PosTaggingTask,
    pack_words,
    split_words,
    word_pieces,
)
from tests.engine.harness import LoadedTasks, check_request, run_loaded
from tests.tiny_models import UPOS_TAGS

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
    assert len(results[0].words) == len(split_words(LONG_TEXT))
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
