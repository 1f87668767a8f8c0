"""Answers that grow: a poem is shown as it is written, in the message that becomes the reply.

The tiny poem model writes in a blink, so a forward hook makes each decoding step take
STEP_S: long enough for a poem to outlast GROW_AFTER_S and grow at one edit a second.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
import torch

from bot import texts
from bot.engine import Engine
from bot.formatting import html_to_plain
from bot.request import Button, Reply, Request
from bot.telegram_progress import ProgressMessage
from bot.telegram_send import send_reply
from tests.e2e.conftest import ANA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec

STEP_S = 0.2
OPENING = "Verde que te quiero verde"


def slow_poems(engine: Engine) -> torch.utils.hooks.RemovableHandle:
    """Every decoding step of the loaded poem model takes at least STEP_S."""
    model = engine._cache.slots["poem"].queue.lm.model  # type: ignore[union-attr]
    if not isinstance(model, torch.nn.Module):
        pytest.skip("the step hook needs the torch runtime")
    return model.register_forward_hook(lambda *_: time.sleep(STEP_S))


def is_a_poem_reply(text: str) -> bool:
    """What /poema answers for OPENING: the opening in bold and what followed it."""
    return text.startswith(f"<b>{OPENING}</b>") or text == texts.POEM_EMPTY


def message_calls(tg: TelegramHarness, chat_id: int) -> list[Any]:
    methods = {"sendmessage", "editmessagetext", "deletemessage"}
    return [
        call
        for call in tg.server.request_log
        if call.method.lower() in methods and call.params.get("chat_id") == chat_id
    ]


async def test_a_poem_grows_in_one_message_and_its_last_edit_is_the_reply(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    assert tg.bot is not None
    engine = tg.bot.services.engine
    assert isinstance(engine, Engine)
    await engine.run("poem", [OPENING])  # loads the model
    slow_poems(engine)
    server = tg.server
    server.mark(ana_chat.id)

    [answer] = await tg.say(ana_chat, ANA, f"/poema {OPENING}")
    await server.wait_until(lambda: answer["reply_markup"] is not None, timeout=30)

    expected = answer["text"]  # the final edit is the whole reply, button and all
    assert is_a_poem_reply(expected)
    [[button]] = answer["reply_markup"]["inline_keyboard"]
    assert button["text"] == texts.POEM_AGAIN
    partials = answer["edits"]  # what the message said before, oldest first
    assert len(partials) >= 2, "the poem never grew: no partial edit before the final one"
    for earlier, later in zip(partials, [*partials[1:], expected], strict=True):
        assert later.startswith(earlier) and later != earlier
    calls = message_calls(tg, ana_chat.id)
    assert [c.method for c in calls] == ["sendMessage"] + ["editMessageText"] * len(partials)
    gaps = [later.time - earlier.time for earlier, later in itertools.pairwise(calls[:-1])]
    assert all(gap >= 0.95 for gap in gaps), gaps  # at most one partial edit a second
    assert "typing" in server.chat_actions(ana_chat.id)
    assert len(server.since_mark(ana_chat.id)) == 1 and not answer["deleted"]
    assert not server.errors, server.errors


async def test_in_a_group_flood_control_stops_the_growing_and_the_reply_still_arrives(
    tg: TelegramHarness, group: ChatSpec
) -> None:
    assert tg.bot is not None
    engine = tg.bot.services.engine
    assert isinstance(engine, Engine)
    await engine.run("poem", [OPENING])  # loads the model
    slow_poems(engine)
    server = tg.server
    server.flood(group.id, retry_after=1, methods=("editMessageText",))

    [answer] = await tg.say(group, ANA, f"/poema {OPENING}")
    await server.wait_until(lambda: answer["reply_markup"] is not None, timeout=30)

    assert is_a_poem_reply(answer["text"])
    assert answer["edits"][0] != answer["text"]  # the final edit replaced the partial poem
    assert answer["text"].startswith(answer["edits"][0])
    assert answer["reply_to"] is not None  # quoting the request from its first partial on
    assert answer["edits"] and len(answer["edits"]) == 1  # the first partial, then the reply
    refused, *edited = [c for c in message_calls(tg, group.id) if c.method != "sendMessage"]
    assert len(edited) == 1  # no partial edit after flood control: only the final one
    assert edited[0].time - refused.time >= 1.0  # which waited flood control out


async def test_a_long_final_reply_is_edited_into_the_first_part_and_the_rest_follows(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    assert tg.bot is not None
    bot = tg.bot.application.bot
    server = tg.server
    server.mark(ana_chat.id)
    progress = ProgressMessage(bot, ana_chat.id, grow_after=0)
    progress.grow("<b>Había una vez</b> un")
    await server.wait_until(lambda: len(server.since_mark(ana_chat.id)) == 1)
    await progress.stop()
    long_text = "<b>Había una vez</b> un " + "cuento muy largo. " * 400  # over 4096
    reply = Reply.text(long_text, buttons=[[Button("Otro", "poema:1")]])
    request = Request(chat_id=ana_chat.id, user_id=ANA.id)

    await send_reply(bot, request, reply, None, replacing=progress.take())
    await progress.delete()  # the answer is no longer the progress message's to delete

    first, rest = server.since_mark(ana_chat.id)
    assert first["edits"] == ["<b>Había una vez</b> un"] and not first["deleted"]
    assert first["plain_text"].startswith("Había una vez un cuento")
    assert first["reply_markup"] is None and rest["reply_markup"] is not None  # buttons last
    joined = f"{first['plain_text']} {rest['plain_text']}".split()
    assert joined == html_to_plain(long_text).split()
