"""A model's first use in Telegram: a notice at once, progress edits, then the answer in its place.

The hub is a local stand-in serving the tiny translator slowly under its real id (or an address
that refuses connections); the bot runs against the local Bot API server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from telegram import Bot

from bot import texts
from bot.config import Settings
from bot.engine.registry import get_spec
from bot.formatting import html_to_plain
from bot.telegram_progress import ProgressMessage
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.conftest import ANA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec
from tests.fake_hub import FakeHub, closed_endpoint, go_online

TASK = "translate_es_en"
MODEL = get_spec(TASK).default_model
NOTICE = html_to_plain(texts.MODEL_PREPARING.format(task=texts.TASK_NAMES[TASK]))


@pytest.fixture
async def harness(make_settings: Callable[..., Settings]) -> AsyncIterator[TelegramHarness]:
    """The bot with the translator under its real hub id; started by each test."""
    async with BotApiServer() as server:
        harness = TelegramHarness(server, make_settings)
        harness.overrides["model_translate_es_en"] = MODEL
        try:
            yield harness
        finally:
            await harness.stop()


def calls_in_chat(server: BotApiServer, chat_id: int) -> list[str]:
    """The message methods the bot called in a chat, in order."""
    methods = {"sendmessage", "editmessagetext", "deletemessage"}
    return [
        call.method
        for call in server.request_log
        if call.method.lower() in methods and call.params.get("chat_id") == chat_id
    ]


async def test_a_slow_first_download_shows_a_notice_edits_it_and_the_answer_replaces_it(
    harness: TelegramHarness,
    ana_chat: ChatSpec,
    tiny_models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = harness.server
    with FakeHub({MODEL: tiny_models[TASK]}, seconds_per_file=0.5) as hub:
        go_online(monkeypatch, tmp_path / "hub-cache", hub.endpoint)
        await harness.start()
        notice, answer = await harness.say(ana_chat, ANA, "/traducir Hoy hace sol.", count=2)
        await server.wait_until(lambda: notice["deleted"])

    assert notice["edits"], "the notice was never edited with the download's progress"
    assert html_to_plain(notice["edits"][0]) == NOTICE  # at once, before the size is known
    assert "MB" in notice["plain_text"] and "%" in notice["plain_text"]  # the newest edit
    assert "→ inglés" in answer["plain_text"] and not answer["deleted"]
    calls = calls_in_chat(server, ana_chat.id)
    edited = ["editMessageText"] * len(notice["edits"])
    assert calls == ["sendMessage", *edited, "sendMessage", "deleteMessage"]
    sent = server.calls("sendMessage")[0].time
    edits = [call.time for call in server.calls("editMessageText")]
    gaps = [later - earlier for earlier, later in zip([sent, *edits], edits, strict=False)]
    assert all(gap >= 1.9 for gap in gaps), gaps  # at most one edit every 2 s
    assert not server.errors, server.errors


async def test_an_unreachable_hub_answers_at_once_naming_the_fixes(
    harness: TelegramHarness,
    ana_chat: ChatSpec,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    go_online(monkeypatch, tmp_path / "hub-cache", closed_endpoint())
    await harness.start()
    server = harness.server
    server.mark(ana_chat.id)
    server.user_sends(ana_chat, ANA, "/traducir Hoy hace sol.")

    def shown() -> list[dict[str, object]]:
        return [m for m in server.since_mark(ana_chat.id) if not m["deleted"]]

    def settled() -> bool:
        """The answer is there, and the notice (if it went out first) is gone."""
        texts_shown = [str(m["plain_text"]) for m in shown()]
        return any("prefetch" in t for t in texts_shown) and not any(
            t.startswith("⏳") for t in texts_shown
        )

    await server.wait_until(settled, timeout=20)
    [answer] = shown()
    assert "python -m bot prefetch" in str(answer["plain_text"])
    assert "MODEL_TRANSLATE_ES_EN" in str(answer["plain_text"])
    assert not server.errors, server.errors


async def test_the_progress_message_waits_out_flood_control_and_sends_the_newest_text(
    ana_chat: ChatSpec,
) -> None:
    async with BotApiServer() as server, Bot(server.token, base_url=server.base_url) as bot:
        progress = ProgressMessage(bot, ana_chat.id, every=0.2)
        progress.show("⏳ <b>Preparando</b>…")
        await server.wait_until(lambda: bool(server.messages(ana_chat.id)))
        server.flood(ana_chat.id, retry_after=1, methods=("editMessageText",))
        progress.show("⏳ 10 %")
        await server.wait_until(lambda: bool(server.errors))
        progress.show("⏳ 20 %")
        progress.show("⏳ 30 %")  # only the newest goes out once the wait is over
        await server.wait_until(lambda: server.messages(ana_chat.id)[0]["edits"] != [], 5)
        await progress.delete()

    [notice] = server.messages(ana_chat.id)
    assert notice["edits"] == ["⏳ <b>Preparando</b>…"] and notice["plain_text"] == "⏳ 30 %"
    assert notice["deleted"]
    refused, edited = server.calls("editMessageText")
    assert edited.time - refused.time >= 1.0
    assert [error.error_code for error in server.errors] == [429]
