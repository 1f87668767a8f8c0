"""Group utilities over real HTTP: administrators checked with getChatMember, chatter translated
and remembered, and a chat summary built from exactly the messages asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot import texts
from bot.formatting import html_to_plain
from tests.e2e.conftest import ANA, BEA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec

ENGLISH = "The weather is really nice today and we are going to the beach."
SPANISH = "Hoy hace un día precioso y nos vamos todos a la playa."
EVER = 1e9  # a look back longer than any memory: whatever the store holds


async def then_status(tg: TelegramHarness, group: ChatSpec, message: str) -> list[dict[str, Any]]:
    """What the bot said after `message`, up to its answer to a status command sent next.

    A chat's updates are served in order, so the status answer comes after any reply to the
    message: no sleeping, and no reply can arrive late.
    """
    tg.server.mark(group.id)
    tg.server.user_sends(group, BEA, message)
    tg.server.user_sends(group, BEA, "/autotraducir")
    await tg.server.wait_until(
        lambda: any("automática está" in m["plain_text"] for m in tg.server.since_mark(group.id)),
        timeout=20.0,
    )
    return tg.server.since_mark(group.id)[:-1]


async def test_autotranslation_is_switched_by_an_administrator_and_translates_english(
    tg: TelegramHarness, group: ChatSpec
) -> None:
    tg.server.set_administrators(group, ANA)

    [refused] = await tg.say(group, BEA, "/autotraducir on")
    assert refused["plain_text"] == texts.GROUP_ADMINS_ONLY
    assert (group.id, BEA.id) in tg.server.members_asked
    assert await then_status(tg, group, ENGLISH) == []  # still off

    [switched] = await tg.say(group, ANA, "/autotraducir on")
    assert "Traducción automática activada" in switched["plain_text"]

    english = tg.server.user_sends(group, BEA, ENGLISH)["message"]["message_id"]
    tg.server.mark(group.id)
    [translation] = await tg.server.wait_for_messages(group.id, 1, timeout=20.0)
    assert translation["reply_to"] == english  # a reply to that very message
    assert translation["plain_text"].startswith("inglés → español\n")
    assert await then_status(tg, group, SPANISH) == []

    [off] = await tg.say(group, ANA, "/autotraducir off")
    assert off["plain_text"] == html_to_plain(texts.AUTOTRANSLATE_OFF)
    assert await then_status(tg, group, ENGLISH) == []
    assert not tg.server.errors, tg.server.errors


async def stored(tg: TelegramHarness, group: ChatSpec) -> list[str]:
    """The group's messages as the store holds them: "Author: text"."""
    assert tg.bot is not None
    found = await tg.bot.services.store.recent_messages(group.id, 500, EVER)
    return [f"{m.author}: {m.text}" for m in found]


async def until_stored(tg: TelegramHarness, group: ChatSpec, count: int) -> list[str]:
    for _ in range(400):
        if len(found := await stored(tg, group)) >= count:
            return found
        await asyncio.sleep(0.05)
    pytest.fail(f"the store holds {len(await stored(tg, group))} messages, not {count}")


@pytest.fixture
def summariser_inputs(tg: TelegramHarness, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts the summarisation model receives, recorded on their way to the real engine."""
    assert tg.bot is not None
    engine = tg.bot.services.engine
    real_run: Callable[..., Awaitable[list[Any]]] = engine.run
    seen: list[list[str]] = []

    async def recording(task: str, inputs: list[Any], **params: Any) -> list[Any]:
        if task == "summarize":
            seen.append(list(inputs))
        return await real_run(task, inputs, **params)

    monkeypatch.setattr(engine, "run", recording)
    return seen


async def test_a_chat_summary_reads_the_last_n_remembered_messages(
    tg: TelegramHarness, group: ChatSpec, summariser_inputs: list[list[str]]
) -> None:
    tg.server.set_administrators(group, ANA)
    [switched] = await tg.say(group, ANA, "/memoria on")
    assert "Memoria activada" in switched["plain_text"]
    typing_before = len(tg.server.chat_actions(group.id))
    written = []
    for n in range(30):
        user = (ANA, BEA)[n % 2]
        tg.server.user_sends(group, user, f"Mensaje {n}: hoy hablamos del tema {n}")
        written.append(f"{user.first_name}: Mensaje {n}: hoy hablamos del tema {n}")
    assert await until_stored(tg, group, 30) == written
    # Remembering is silent: not even "typing…" for chatter that gets no answer.
    await asyncio.sleep(0.3)
    assert len(tg.server.chat_actions(group.id)) == typing_before

    [summary] = await tg.say(group, BEA, "/resumen_chat 20")

    assert summariser_inputs == [["\n".join(written[10:])]]
    lines = summary["plain_text"].splitlines()
    assert lines[:2] == [
        "📝 Resumen de los últimos 20 mensajes",
        "👥 Participantes: Ana (10), Bea (10)",
    ]
    assert summary["reply_to"] is not None


async def test_without_memory_nothing_is_stored_and_olvidar_empties_it(
    tg: TelegramHarness, group: ChatSpec
) -> None:
    tg.server.set_administrators(group, ANA)
    assert await then_status(tg, group, "Un mensaje antes de activar la memoria") == []
    assert await stored(tg, group) == []

    await tg.say(group, ANA, "/memoria on")
    for n in range(3):
        tg.server.user_sends(group, BEA, f"Secreto número {n}")
    assert len(await until_stored(tg, group, 3)) == 3
    [forgotten] = await tg.say(group, BEA, "/olvidar")  # any member may empty it
    assert await stored(tg, group) == []
    assert html_to_plain(texts.MEMORY_STILL_ON) in forgotten["plain_text"]

    tg.server.user_sends(group, BEA, "Otro secreto")
    await until_stored(tg, group, 1)
    [off] = await tg.say(group, ANA, "/memoria off")
    assert off["plain_text"] == texts.MEMORY_OFF.format(count="1 mensaje")
    assert await then_status(tg, group, "Un mensaje con la memoria desactivada") == []
    assert await stored(tg, group) == []
