"""/tokens: the tokens and ids a model's tokenizer gives a text, its count and the split words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from bot import texts
from bot.formatting import html_to_plain, split_for_telegram
from handlers.tokens import COMPARED_NAME, DEFAULT_NAME
from tests.handlers.conftest import Chat, plain

CELL = re.compile(r"(\S+) (\d+)")
LONG = "Los murciélagos desayunaban tranquilamente en la biblioteca municipal. " * 60


def shown_tokens(reply_text: str) -> list[tuple[str, int]]:
    """(token, id) pairs as the reply lists them: the lines after title and count, to a blank."""
    cells: list[tuple[str, int]] = []
    for line in reply_text.splitlines()[2:]:
        if not line.strip():
            break
        cells += [(m.group(1), int(m.group(2))) for m in CELL.finditer(line.replace(" · ", "  "))]
    return cells


async def test_hola_mundo_lists_the_default_tokenizers_tokens_ids_and_count(
    chat: Chat, tiny_models: dict[str, Path]
) -> None:
    reply = await chat.command("tokens", "Hola mundo")
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[texts.TOKENIZER_NAMES[DEFAULT_NAME]])
    ids = tokenizer("Hola mundo")["input_ids"]
    text = plain(reply)
    assert shown_tokens(text) == list(zip(tokenizer.convert_ids_to_tokens(ids), ids, strict=True))
    assert f"{len(ids)} tokens" in text.splitlines()[1]
    assert f"/{DEFAULT_NAME}" in text.splitlines()[0]
    for word in ("Hola", "mundo"):  # each word is named as split exactly when it was
        split = len(tokenizer.tokenize(word)) > 1
        assert any(line.startswith(f"{word} → ") for line in text.splitlines()) == split
    other = AutoTokenizer.from_pretrained(tiny_models[texts.TOKENIZER_NAMES[COMPARED_NAME]])
    [comparison] = [line for line in text.splitlines() if line.startswith("⚖️")]
    assert f"/{DEFAULT_NAME} {len(ids)} tokens" in comparison
    assert f"/{COMPARED_NAME} {len(other('Hola mundo')['input_ids'])} tokens" in comparison


@pytest.mark.parametrize("typed", ["sentimiento", "SENTIMIENTO", "sentiment"])
async def test_a_name_before_a_colon_picks_that_tasks_tokenizer(
    chat: Chat, tiny_models: dict[str, Path], typed: str
) -> None:
    reply = await chat.command("tokens", f"{typed}: me encanta")
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["sentiment"])
    ids = tokenizer("me encanta")["input_ids"]
    text = plain(reply)
    assert "/sentimiento" in text.splitlines()[0]
    assert [token_id for _, token_id in shown_tokens(text)] == ids
    comparison = next(line for line in text.splitlines() if line.startswith("⚖️"))
    assert f"/{COMPARED_NAME}" in comparison


async def test_an_unknown_name_is_part_of_the_text(chat: Chat) -> None:
    reply = await chat.command("tokens", "Nota: hola")
    assert f"/{DEFAULT_NAME}" in plain(reply).splitlines()[0]
    assert any(token.startswith("N") for token, _ in shown_tokens(plain(reply)))


async def test_without_text_the_usage_lists_the_choices(chat: Chat) -> None:
    text = plain(await chat.command("tokens"))
    assert text.startswith("Uso: /tokens")
    assert all(name in text for name in texts.TOKENIZER_NAMES)
    replied = plain(await chat.command("tokens", "completar:", reply_text="Hola mundo"))
    assert "/completar" in replied.splitlines()[0]


async def test_a_long_text_comes_in_parts_telegram_accepts(chat: Chat) -> None:
    reply = await chat.command("tokens", LONG)
    chunks = [chunk for part in reply.parts for chunk in split_for_telegram(part)]
    assert len(chunks) > 1 and all(len(chunk) <= 4096 for chunk in chunks)


async def test_unknown_characters_are_shown_not_the_unknown_token(
    chat: Chat, tiny_models: dict[str, Path]
) -> None:
    text = "ana_perez ∰ hola"
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[texts.TOKENIZER_NAMES[DEFAULT_NAME]])
    assert tokenizer.unk_token_id in tokenizer(text)["input_ids"]  # the stand-in lacks them
    shown = plain(await chat.command("tokens", text))
    assert tokenizer.unk_token not in shown
    assert f"∰{texts.TOKENS_UNKNOWN_MARK}" in shown
    assert html_to_plain(texts.TOKENS_UNKNOWN_NOTE) in shown
