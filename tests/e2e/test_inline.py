"""Inline mode and /tokens over HTTP: answerInlineQuery as Telegram checks it, /tokens' message."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from bot import texts
from tests.e2e.conftest import ANA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec

TEXT = "I love this movie, it was wonderful"
COMMANDS = ("traducir", "sentimiento", "idioma")


async def test_an_inline_query_offers_the_commands_replies(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    replies = {name: (await tg.say(ana_chat, ANA, f"/{name} {TEXT}"))[0] for name in COMMANDS}
    for _ in range(3):  # on a busy machine a model may still be busy: the user types again
        query_id = tg.server.user_queries_inline(ANA, TEXT)
        answer = await tg.server.wait_for_inline_answer(query_id)
        assert answer["is_personal"] is True
        if answer["results"][-1]["title"] != texts.INLINE_WORKING_TITLE:
            break
    assert answer["cache_time"] == tg.settings().inline_cache_seconds
    offered = {result["title"]: result for result in answer["results"]}
    assert list(offered) == [texts.COMMAND_TEXTS[name].button for name in COMMANDS]
    for name, reply in replies.items():
        result = offered[texts.COMMAND_TEXTS[name].button]
        assert result["input_message_content"]["parse_mode"] == "HTML"
        assert result["input_message_content"]["message_text"] == reply["text"]
        assert result["shown_text"] == reply["plain_text"]
    assert not tg.server.errors and not tg.server.unknown_methods


async def test_an_empty_inline_query_gets_a_help_result(tg: TelegramHarness) -> None:
    answer = await tg.server.wait_for_inline_answer(tg.server.user_queries_inline(ANA, ""))
    [result] = answer["results"]
    assert result["title"] == texts.INLINE_HELP_TITLE
    assert f"@{tg.server.bot_username}" in result["shown_text"]
    assert not tg.server.errors


async def test_tokens_hola_mundo_lists_the_default_tokenizers_tokens(
    tg: TelegramHarness, ana_chat: ChatSpec, tiny_models: dict[str, Path]
) -> None:
    [reply] = await tg.say(ana_chat, ANA, "/tokens Hola mundo")
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[texts.TOKENIZER_NAMES["clasificar"]])
    ids = tokenizer("Hola mundo")["input_ids"]
    lines = reply["plain_text"].splitlines()
    assert lines[1].startswith(texts.TOKENS.count(len(ids)))
    listed = " · ".join(lines[2 : lines.index("")])
    expected = zip(tokenizer.convert_ids_to_tokens(ids), ids, strict=True)
    assert listed == " · ".join(f"{token} {token_id}" for token, token_id in expected)
    assert not tg.server.errors
