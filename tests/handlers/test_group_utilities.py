"""Group utilities through the handlers: /autotraducir, /memoria, /resumen_chat and /olvidar.

Who administers a group comes from the `ChatMembers` seam; here a fixed set of administrators,
as the Bot API's getChatMember answers in tests/e2e/test_groups.py.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from bot import texts
from bot.formatting import html_to_plain
from bot.services import Services
from handlers import grupo
from handlers.resumen_chat import wanted_count
from tests.handlers.conftest import ANA, BEA, Chat, MakeServices, plain

ENGLISH = "The weather is really nice today and we are going to the beach."
SPANISH = "Hoy hace un día precioso y nos vamos todos a la playa."
PAIR = "inglés → español"
HOUR = 3600.0


@dataclasses.dataclass
class Administrators:
    """`ChatMembers` from a fixed set of (chat, user) pairs."""

    pairs: set[tuple[int, int]]

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return (chat_id, user_id) in self.pairs


def group_of(services: Services) -> Chat:
    """Ana, an administrator, in a group where Bea is not one."""
    services.members = Administrators({(-500, ANA)})
    return Chat(services, chat_id=-500, kind="supergroup")


async def stored(chat: Chat) -> list[tuple[str, str]]:
    found = await chat.services.store.recent_messages(chat.chat_id, 500, 1000 * HOUR)
    return [(m.author, m.text) for m in found]


@pytest.mark.parametrize("command", ["autotraducir", "memoria", "resumen_chat"])
async def test_in_a_private_chat_they_say_they_are_for_groups(chat: Chat, command: str) -> None:
    assert plain(await chat.command(command, "on")) == texts.GROUPS_ONLY


async def test_only_an_administrator_switches_autotranslation(services: Services) -> None:
    ana = group_of(services)
    bea = ana.as_user(BEA)

    assert plain(await bea.command("autotraducir", "on")) == texts.GROUP_ADMINS_ONLY
    assert await services.store.group_options(ana.chat_id) == frozenset()

    switched = plain(await ana.command("autotraducir", "on"))
    assert "activada" in switched and "6 por minuto" in switched
    assert plain(await bea.command("autotraducir", "off")) == texts.GROUP_ADMINS_ONLY
    assert await services.store.group_options(ana.chat_id) == {"autotranslate"}
    assert "<b>activada</b>" in (await bea.command("autotraducir")).parts[0]  # anyone may ask
    assert plain(await bea.command("autotraducir", "quizá")).startswith("Uso: /autotraducir")

    assert plain(await ana.command("autotraducir", "off")) == texts.AUTOTRANSLATE_OFF
    assert await services.store.group_options(ana.chat_id) == frozenset()


async def test_english_chatter_gets_a_spanish_translation_and_nothing_else_does(
    services: Services,
) -> None:
    ana = group_of(services)
    assert not (await ana.say(ENGLISH)).parts  # off: nothing
    await ana.command("autotraducir", "on")

    translated = await ana.as_user(BEA).say(ENGLISH)
    assert plain(translated).startswith(PAIR)
    assert not (await ana.say(SPANISH)).parts
    assert not (await ana.say("ok thanks")).parts  # too short
    assert not (await ana.say(ENGLISH, from_bot=True)).parts  # a bot's, or sent inline


async def test_a_reply_to_the_bot_is_answered_once_not_translated(services: Services) -> None:
    ana = group_of(services)
    await ana.command("autotraducir", "on")
    reply = await ana.say(ENGLISH, replies_to_bot=True)
    assert plain(reply).startswith(texts.CHOOSE_ACTION)
    assert PAIR not in plain(reply)


async def test_each_group_has_its_own_limit_of_translations(make_services: MakeServices) -> None:
    services = await make_services(autotranslate_per_minute=2)
    ana = group_of(services)
    await ana.command("autotraducir", "on")
    replies = [await ana.say(f"{ENGLISH} Number {n}.") for n in range(3)]
    assert [bool(reply.parts) for reply in replies] == [True, True, False]
    other = group_of(services).elsewhere(-600, "group")
    services.members = Administrators({(-600, ANA)})
    await other.command("autotraducir", "on")
    assert (await other.say(ENGLISH)).parts  # another group is not held back


async def test_a_failed_translation_is_logged_not_said_in_the_group(
    make_services: MakeServices, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = await make_services(model_translate_en_es=str(tmp_path / "no-such-model"))
    ana = group_of(services)
    await ana.command("autotraducir", "on")
    with caplog.at_level(logging.ERROR, logger="handlers.grupo"):
        reply = await ana.say(ENGLISH)
    assert not reply.parts
    assert any("could not translate" in r.getMessage() for r in caplog.records)


async def test_memory_keeps_who_said_what_only_while_on(services: Services) -> None:
    ana = group_of(services)
    bea = ana.as_user(BEA)
    await ana.say("Antes de activarla", author="Ana")
    assert plain(await bea.command("memoria", "on")) == texts.GROUP_ADMINS_ONLY

    switched_on = plain(await ana.command("memoria", "on"))
    assert "24 horas" in switched_on and "/olvidar" in switched_on

    await ana.say("Hola a todos", author="Ana")
    await bea.say("  Hola, Ana  ", author="Bea  García")
    await bea.command("traducir", "Esto es un comando", author="Bea")  # commands are not kept
    await bea.say("Un mensaje de un bot", author="Bot", from_bot=True)
    assert await stored(ana) == [("Ana", "Hola a todos"), ("Bea García", "Hola, Ana")]

    switched_off = plain(await ana.command("memoria", "off"))
    assert switched_off == texts.MEMORY_OFF.format(count="2 mensajes")
    await ana.say("Después de desactivarla", author="Ana")
    assert await stored(ana) == []
    assert plain(await bea.command("resumen_chat")) == html_to_plain(texts.CHAT_SUMMARY_MEMORY_OFF)


async def test_a_chat_summary_covers_the_last_n_messages_and_names_who_wrote(
    services: Services,
) -> None:
    ana = group_of(services)
    await ana.command("memoria", "on")
    for n in range(3):
        await ana.say(f"Ana cuenta la historia número {n}", author="Ana")
    for n in range(2):
        await ana.as_user(BEA).say(f"Bea responde con la idea {n}", author="Bea <b>")

    lines = plain(await ana.command("resumen_chat", "3")).splitlines()

    assert lines[0] == "📝 Resumen de los últimos 3 mensajes"
    assert lines[1] == "👥 Participantes: Bea <b> (2), Ana (1)"
    assert lines[2] == "" and lines[3].strip()
    everything = plain(await ana.command("resumen_chat")).splitlines()
    assert everything[:2] == [
        "📝 Resumen de los últimos 5 mensajes",
        "👥 Participantes: Ana (3), Bea <b> (2)",
    ]


async def test_a_summary_of_too_much_text_keeps_the_newest_and_says_so(
    make_services: MakeServices,
) -> None:
    services = await make_services(max_input_chars=120)
    ana = group_of(services)
    await ana.command("memoria", "on")
    for n in range(6):
        await ana.say(f"Mensaje largo número {n} con bastantes palabras dentro", author="Ana")
    shown = plain(await ana.command("resumen_chat", "6"))
    assert shown.startswith("📝 Resumen de los últimos 2 mensajes")
    assert "he resumido los últimos 2 mensajes" in shown


async def test_nothing_to_summarise_yet(services: Services) -> None:
    ana = group_of(services)
    await ana.command("memoria", "on")
    assert "24 horas" in plain(await ana.command("resumen_chat", "20"))


@pytest.mark.parametrize(
    ("typed", "count"),
    [("", 50), ("20", 20), ("200", 200), ("5000", 200), ("0", None), ("x", None)],
)
def test_how_many_messages_a_summary_reads(typed: str, count: int | None) -> None:
    assert wanted_count(typed) == count


async def test_forgetting_a_group_empties_its_memory_and_says_it_stays_on(
    services: Services,
) -> None:
    ana = group_of(services)
    await ana.command("memoria", "on")
    await ana.as_user(BEA).say("Un secreto del grupo", author="Bea")
    reply = plain(await ana.as_user(BEA).command("olvidar"))
    assert await stored(ana) == []
    assert html_to_plain(texts.MEMORY_STILL_ON) in reply
    await ana.say("Algo nuevo", author="Ana")
    assert await stored(ana) == [("Ana", "Algo nuevo")]


async def test_a_store_failure_in_chatter_is_logged_not_said(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    ana = group_of(services)
    await ana.command("memoria", "on")
    await services.store.close()
    with caplog.at_level(logging.ERROR, logger="handlers.grupo"):
        reply = await ana.say("Hola a todos, ¿qué tal?", author="Ana")
    assert not reply.parts
    assert any("could not remember" in r.getMessage() for r in caplog.records)


def test_short_texts_are_never_translated() -> None:
    assert not grupo.long_enough("hi there")
    assert not grupo.long_enough("supercalifragilistic")  # one word
    assert grupo.long_enough("see you all soon")
