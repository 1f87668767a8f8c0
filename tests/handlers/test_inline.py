"""Inline mode: a query's results are the commands' own replies, in time, or a word on why not."""

from __future__ import annotations

import time

from bot import texts
from bot.services import Services
from handlers.inline import MAX_QUERY_CHARS, InlineAnswer, answer_inline
from tests.e2e.telegram_html import parse_html
from tests.engine.harness import before_forward
from tests.handlers.conftest import Chat, MakeServices

TEXT = "I love this movie, it was wonderful"
LONG = " ".join(["El tren sale de la estación a las ocho y llega pronto."] * 3)
PATIENT = 120.0  # seconds: cold loads on a busy CI machine; the budget is tested on its own
TITLES = {texts.COMMAND_TEXTS[name].button: name for name in ("traducir", "sentimiento", "idioma")}


def well_formed(answer: InlineAnswer) -> InlineAnswer:
    """Ids unique and short, every message Telegram HTML within one message's length."""
    ids = [result.id for result in answer.results]
    assert len(ids) == len(set(ids)) and all(0 < len(i.encode()) <= 64 for i in ids)
    for result in answer.results:
        shown, _ = parse_html(result.message)
        assert shown.strip() and len(shown) <= 4096
        assert result.title and "\n" not in result.description
    return answer


async def test_results_are_what_the_commands_reply(chat: Chat, services: Services) -> None:
    answer = well_formed(await answer_inline(TEXT, chat.user_id, services, PATIENT))
    assert [result.title for result in answer.results] == list(TITLES)
    for result in answer.results:
        reply = await chat.command(TITLES[result.title], TEXT)
        assert result.message == "\n\n".join(reply.parts)
    assert answer.cache_seconds == services.settings.inline_cache_seconds


async def test_a_long_text_is_offered_a_summary_too(chat: Chat, services: Services) -> None:
    answer = well_formed(await answer_inline(LONG, chat.user_id, services, PATIENT))
    [summary] = [r for r in answer.results if r.title == texts.COMMAND_TEXTS["resumir"].button]
    assert summary.message == "\n\n".join((await chat.command("resumir", LONG)).parts)
    short = await answer_inline(TEXT, chat.user_id, services, PATIENT)
    assert texts.COMMAND_TEXTS["resumir"].button not in [r.title for r in short.results]


async def test_an_empty_or_too_long_query_gets_one_helpful_result(services: Services) -> None:
    for query in ("", "   ", "\u200b"):
        [result] = well_formed(await answer_inline(query, 7, services)).results
        assert result.title == texts.INLINE_HELP_TITLE
        assert "@TertuliaTestBot" in result.message
    [long] = well_formed(await answer_inline("a" * (MAX_QUERY_CHARS + 1), 7, services)).results
    assert long.title == texts.INLINE_TOO_LONG_TITLE and str(MAX_QUERY_CHARS) in long.message
    assert services.engine.status().models["sentiment"].requests == 0


async def test_a_slow_model_gives_still_working_then_a_retry_has_it(
    make_services: MakeServices,
) -> None:
    services = await make_services()
    before_forward(services.engine, "sentiment", lambda _: time.sleep(3.0))
    started = time.perf_counter()
    first = well_formed(await answer_inline(TEXT, 7, services, within_s=0.3))
    assert time.perf_counter() - started < 2.5  # well before the held model answers
    assert first.results[-1].title == texts.INLINE_WORKING_TITLE and first.cache_seconds == 0
    assert texts.COMMAND_TEXTS["sentimiento"].button not in [r.title for r in first.results]
    retry = well_formed(await answer_inline(TEXT, 7, services, within_s=PATIENT))
    assert [r.title for r in retry.results] == list(TITLES)
    # The first query's work went on: the sentiment model served it as well as the retry.
    assert services.engine.status().models["sentiment"].requests == 2


async def test_the_rate_limit_and_allowed_chats_apply(make_services: MakeServices) -> None:
    services = await make_services(rate_limit_per_minute=1, allowed_chats=[7])
    assert len((await answer_inline(TEXT, 7, services, PATIENT)).results) == 3
    [limited] = (await answer_inline(TEXT, 7, services)).results
    assert limited.title == texts.INLINE_REFUSED_TITLE and "Espera" in limited.message
    [stranger] = (await answer_inline(TEXT, 9, services)).results
    assert stranger.message == texts.NOT_ALLOWED
