"""Engine.tokenize: a task's tokenizer alone, cutting texts as the model would receive them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from bot.config import Settings
from bot.engine import Engine, InputTooLong, InvalidInput, ModelUnavailable, UnknownTask
from bot.engine.results import Tokenization

TEXT = "Los murciélagos desayunaban tranquilamente en la biblioteca."
# One tokenizer of each family: WordPiece, SentencePiece (XLM-R, Marian: slow), byte-level BPE.
KEYS = ["zero_shot", "fill_mask", "translate_es_en", "poem"]


@pytest.fixture(scope="module")
def tokenizers(tiny_models: dict[str, Path]) -> dict[str, object]:
    """The stand-ins' tokenizers, loaded by the test itself to compare against."""
    return {key: AutoTokenizer.from_pretrained(tiny_models[key]) for key in KEYS}


async def test_tokens_and_ids_are_what_the_tokenizer_gives_and_no_model_loads(
    engine: Engine, tokenizers: dict[str, object]
) -> None:
    for key in KEYS:
        [cut] = await engine.tokenize(key, [TEXT])
        expected = tokenizers[key](TEXT)["input_ids"]  # type: ignore[operator]
        assert isinstance(cut, Tokenization)
        assert [token.id for token in cut.tokens] == expected
        assert cut.count == len(expected)
        names = tokenizers[key].convert_ids_to_tokens(expected)  # type: ignore[attr-defined]
        assert [token.text for token in cut.tokens] == names
        specials = set(tokenizers[key].all_special_ids)  # type: ignore[attr-defined]
        assert any(token.special for token in cut.tokens) or not specials & set(expected)
        assert all(token.id in specials for token in cut.tokens if token.special)
    status = engine.status()
    assert not any(model.loaded for model in status.models.values())
    assert status.used_bytes == 0


async def test_split_words_are_the_words_cut_into_several_pieces(
    engine: Engine, tokenizers: dict[str, object]
) -> None:
    for key in KEYS:
        [cut] = await engine.tokenize(key, [TEXT])
        tokenizer = tokenizers[key]
        assert cut.split_words, f"{key}: the tiny vocabularies cut long rare words"
        for split in cut.split_words:
            assert split.word in TEXT and len(split.pieces) > 1
            pieces = tokenizer.tokenize(split.word)  # type: ignore[attr-defined]
            # In context a byte-level BPE may mark the leading space: same count of pieces.
            assert len(split.pieces) == len(pieces) or key == "poem"
            assert set(split.pieces) <= {token.text for token in cut.tokens} or key != "poem"
        words_whole = [w for w in ("en", "la") if len(tokenizer.tokenize(w)) == 1]  # type: ignore[attr-defined]
        assert not {split.word for split in cut.split_words} & set(words_whole)


async def test_bad_requests_fail_with_typed_errors(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    engine = Engine(make_settings(max_input_chars=50, model_zero_shot=str(tmp_path / "nowhere")))
    try:
        with pytest.raises(InputTooLong):
            await engine.tokenize("fill_mask", ["x" * 51])
        with pytest.raises(InvalidInput):
            await engine.tokenize("fill_mask", ["  "])
        with pytest.raises(UnknownTask):
            await engine.tokenize("embed", ["hola"])
        with pytest.raises(ModelUnavailable):
            await engine.tokenize("zero_shot", ["hola"])
    finally:
        await engine.close()


async def test_the_model_server_cuts_texts_as_the_local_engine_does(model_server: Settings) -> None:
    pytest.importorskip("ray")
    from bot.engine.remote import RemoteEngine

    remote = RemoteEngine(model_server)
    local = Engine(model_server.model_copy(update={"engine_backend": "local"}))
    try:
        for key in KEYS:
            assert await remote.tokenize(key, [TEXT]) == await local.tokenize(key, [TEXT])
        with pytest.raises(InputTooLong):
            await remote.tokenize("zero_shot", ["x" * (model_server.max_input_chars + 1)])
    finally:
        await remote.close()
        await local.close()
