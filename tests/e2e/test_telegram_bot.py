"""The real bot over real HTTP: users in private chats and groups, as Telegram delivers them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.formatting import html_to_plain
from handlers.commands import menu, offered_rows
from tests.e2e.conftest import ANA, BEA, TelegramHarness
from tests.e2e.telegram_chats import ChatSpec
from tests.e2e.telegram_html import parse_html
from tests.engine.harness import before_forward, hold_forward
from tests.handlers import command_eco
from tests.tiny_models import build_controlled_qa

USAGE_HEAD = texts.USAGE.split("{")[0]

# Every command with an argument that is valid for it.
COMMANDS = {
    "/ayuda": "",
    "/start": "",
    "/traducir": "Hoy hace un día precioso.",
    "/resumir": "El tren llegó tarde. Nadie dijo nada. La gente esperó en el andén.",
    "/contexto": "El Quijote fue escrito por Cervantes.",
    "/clasificar": "El equipo ganó la final | deportes, política",
    "/sentimiento": "Me encanta este libro",
    "/idioma": "Bonjour tout le monde",
    "/completar": "La capital de Francia es <mask>.",
    "/poema": "La luna sobre el mar",
    "/pos": "El gato duerme en el sofá.",
    "/estado": "",
}


def texts_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["plain_text"] for m in messages)


async def test_start_publishes_the_menu_and_learns_the_username(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    assert tg.bot is not None
    assert tg.bot.services.bot_username == tg.server.bot_username
    published = [(c["command"], c["description"]) for c in tg.server.commands]
    assert published == menu()
    [reply] = await tg.say(ana_chat, ANA, "/ayuda")
    for command, _ in menu():
        assert f"/{command}" in reply["plain_text"]
    assert reply["parse_mode"] == "HTML"


async def test_a_new_command_reaches_menu_help_and_buttons(
    tg: TelegramHarness, ana_chat: ChatSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_eco.install(monkeypatch)
    await tg.restart()
    assert tg.server.commands[-1] == {"command": "eco", "description": command_eco.TEXTS.menu}
    [help_reply] = await tg.say(ana_chat, ANA, "/ayuda")
    assert f"/eco — {command_eco.TEXTS.menu}" in help_reply["plain_text"]
    [offer] = await tg.say(ana_chat, ANA, "Me encanta pasear por la playa")
    buttons = [b for row in offer["reply_markup"]["inline_keyboard"] for b in row]
    eco = next(b for b in buttons if b["text"] == command_eco.TEXTS.button)
    [answer] = await tg.press(ana_chat, ANA, offer["message_id"], eco["callback_data"])
    assert answer["plain_text"] == f"{command_eco.REPLY_MARK} Me encanta pasear por la playa"


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_every_command_answers_in_a_private_chat(
    tg: TelegramHarness, ana_chat: ChatSpec, command: str
) -> None:
    text = f"{command} {COMMANDS[command]}".strip()
    replies = await tg.say(ana_chat, ANA, text)
    assert replies[0]["plain_text"].strip()
    assert not tg.server.errors, tg.server.errors


@pytest.mark.parametrize("command", [c for c, arg in COMMANDS.items() if arg])
async def test_empty_command_answers_with_usage_and_example(
    tg: TelegramHarness, bea_chat: ChatSpec, command: str
) -> None:
    [reply] = await tg.say(bea_chat, BEA, command)
    assert USAGE_HEAD in reply["plain_text"]
    assert "Ejemplo" in reply["plain_text"]


async def test_group_command_with_suffix_and_as_a_reply(
    tg: TelegramHarness, group: ChatSpec
) -> None:
    original = tg.server.user_sends(group, BEA, "Me ha encantado la película de ayer")
    original_id = original["message"]["message_id"]
    [reply] = await tg.say(group, ANA, "/sentimiento@TertuliaTestBot", reply_to=original_id)
    assert USAGE_HEAD not in reply["plain_text"]  # it worked on the replied message
    assert reply["reply_to"] is not None  # quoted in the group
    [usage] = await tg.say(group, ANA, "/traducir@TertuliaTestBot")
    assert USAGE_HEAD in usage["plain_text"]
    tg.server.mark(group.id)
    tg.server.user_sends(group, ANA, "/traducir@OtroBot hola")
    await tg.server.expect_silence(group.id, 0.5)


async def test_plain_text_buttons_run_the_action(tg: TelegramHarness, ana_chat: ChatSpec) -> None:
    [offer] = await tg.say(ana_chat, ANA, "Me encanta pasear por la playa al atardecer")
    keyboard = offer["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in keyboard] == [
        [texts.COMMAND_TEXTS[command].button for command in row] for row in offered_rows()
    ]
    buttons = [b for row in keyboard for b in row]
    sentiment = next(b for b in buttons if "Sentimiento" in b["text"])
    [answer] = await tg.press(ana_chat, ANA, offer["message_id"], sentiment["callback_data"])
    assert USAGE_HEAD not in answer["plain_text"] and answer["plain_text"].strip()


async def test_poem_other_button_writes_another(tg: TelegramHarness, ana_chat: ChatSpec) -> None:
    [poem] = await tg.say(ana_chat, ANA, "/poema La luna sobre el mar")
    [button] = [b for row in poem["reply_markup"]["inline_keyboard"] for b in row]
    [again] = await tg.press(ana_chat, ANA, poem["message_id"], button["callback_data"])
    assert "La luna" in again["plain_text"]
    assert again["reply_markup"] is not None


async def test_txt_document_becomes_the_reading_text(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    content = "Cervantes escribió el Quijote. Vivió en Madrid.".encode()
    [reply] = await tg.say(
        ana_chat, ANA, "/contexto", document=("lectura.txt", content, "text/plain")
    )
    assert str(len(content.decode())) in reply["plain_text"]
    too_big = b"a" * (tg.settings().max_document_bytes + 1)
    [big] = await tg.say(ana_chat, ANA, "/contexto", document=("grande.txt", too_big, "text/plain"))
    assert "KB" in big["plain_text"]
    [image] = await tg.say(
        ana_chat, ANA, "/contexto", document=("foto.png", b"\x89PNG....", "image/png")
    )
    assert ".txt" in image["plain_text"]


async def test_question_mode_survives_a_restart(
    tg: TelegramHarness, ana_chat: ChatSpec, tmp_path: Path
) -> None:
    folder = build_controlled_qa(tmp_path / "qa", "Zaragoza")
    await tg.stop()
    await tg.start(model_qa=str(folder))
    await tg.say(ana_chat, ANA, "/contexto Ana nació en Zaragoza. Luego se mudó a la costa.")
    [started] = await tg.say(ana_chat, ANA, "/pregunta")
    assert "/fin" in started["plain_text"]
    await tg.restart()
    [answer] = await tg.say(ana_chat, ANA, "¿Dónde nació Ana?")
    assert "Zaragoza" in answer["plain_text"]
    assert "Ana nació en Zaragoza." in answer["plain_text"]
    [ended] = await tg.say(ana_chat, ANA, "/fin")
    assert "/pregunta" in ended["plain_text"]
    [offer] = await tg.say(ana_chat, ANA, "¿Y ahora?")
    assert offer["reply_markup"] is not None  # plain text again, no longer a question


async def test_two_chats_never_mix_reading_texts(
    tg: TelegramHarness, ana_chat: ChatSpec, bea_chat: ChatSpec, tmp_path: Path
) -> None:
    folder = build_controlled_qa(tmp_path / "qa", "Zaragoza")
    await tg.stop()
    await tg.start(model_qa=str(folder))
    await tg.say(ana_chat, ANA, "/contexto Ana vive en Zaragoza desde niña.")
    await tg.say(bea_chat, BEA, "/contexto Bea vive en Sevilla con su hermano.")
    [for_ana] = await tg.say(ana_chat, ANA, "/pregunta ¿Dónde vive?")
    [for_bea] = await tg.say(bea_chat, BEA, "/pregunta ¿Dónde vive?")
    assert "Zaragoza" in for_ana["plain_text"]
    assert "Zaragoza" not in for_bea["plain_text"]
    assert "Sevilla" in for_bea["plain_text"]


async def test_long_input_is_served_in_messages_under_the_limit(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    sentence = "El tren de las ocho llegó tarde a la estación y nadie dijo nada. "
    text = (sentence * (20_000 // len(sentence) + 1))[:19_990]
    await tg.say(ana_chat, ANA, f"/pos {text}", count=2, timeout=90)

    def names_the_limit(message: dict[str, Any]) -> bool:
        return "20001" in message["plain_text"] or "20.001" in message["plain_text"]

    # The tagging's last parts may still be on their way: the refusal is found among them.
    tg.server.user_sends(ana_chat, ANA, "/resumir " + "a" * 20_001)
    await tg.server.wait_until(
        lambda: any(names_the_limit(m) for m in tg.server.since_mark(ana_chat.id)), timeout=30
    )
    replies = tg.server.since_mark(ana_chat.id)
    assert len([m for m in replies if not names_the_limit(m)]) >= 2
    assert all(len(m["plain_text"]) <= 4096 for m in replies)
    assert not tg.server.errors


async def test_hostile_text_is_escaped(tg: TelegramHarness, ana_chat: ChatSpec) -> None:
    nasty = "<b>hola</b> & <script>x</script> *negrita* _cursiva_ [enlace](http://x) 😀🇪🇸 &amp;"
    await tg.say(ana_chat, ANA, f"/contexto {nasty}")
    assert not tg.server.errors
    [offer] = await tg.say(ana_chat, ANA, nasty)
    assert nasty in offer["plain_text"] or offer["reply_markup"] is not None
    parse_html(offer["text"])  # valid Telegram HTML
    assert not tg.server.errors


async def test_model_that_fails_to_load_gets_a_message_and_others_work(
    tg: TelegramHarness, ana_chat: ChatSpec, tmp_path: Path
) -> None:
    await tg.stop()
    await tg.start(model_sentiment=str(tmp_path / "no-such-model"))
    [reply] = await tg.say(ana_chat, ANA, "/sentimiento Me encanta")
    assert "no-such-model" in reply["plain_text"]
    [other] = await tg.say(ana_chat, ANA, "/pos El gato duerme")
    assert "—" in other["plain_text"] or other["plain_text"].strip()


async def test_slow_chat_never_delays_help_elsewhere(
    tg: TelegramHarness, ana_chat: ChatSpec, bea_chat: ChatSpec
) -> None:
    assert tg.bot is not None
    engine = tg.bot.services.engine
    await engine.run("pos", ["carga"])
    before_forward(engine, "pos", lambda features: time.sleep(4.5))
    tg.server.mark(ana_chat.id)
    tg.server.user_sends(ana_chat, ANA, "/pos El gato duerme")
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await tg.say(bea_chat, BEA, "/ayuda")
    assert time.perf_counter() - started < 1.0
    await tg.server.wait_for_messages(ana_chat.id, 1, timeout=20)
    assert tg.server.chat_actions(ana_chat.id).count("typing") >= 2  # renewed while it works


async def test_messages_of_one_chat_are_answered_in_order(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    tg.server.mark(ana_chat.id)
    tg.server.user_sends(ana_chat, ANA, "/pos uno dos tres cuatro cinco seis")
    tg.server.user_sends(ana_chat, ANA, "/ayuda")
    first, second = await tg.server.wait_for_messages(ana_chat.id, 2, timeout=20)
    assert "/ayuda" in second["plain_text"] and "/ayuda" not in first["plain_text"][:20]


async def test_flood_control_delays_only_that_chat(
    tg: TelegramHarness, ana_chat: ChatSpec, bea_chat: ChatSpec
) -> None:
    tg.server.flood(ana_chat.id, retry_after=2)
    tg.server.mark(ana_chat.id)
    tg.server.user_sends(ana_chat, ANA, "/ayuda")
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    await tg.say(bea_chat, BEA, "/ayuda")
    assert time.perf_counter() - started < 1.0
    [late] = await tg.server.wait_for_messages(ana_chat.id, 1, timeout=10)
    assert "/ayuda" in late["plain_text"]


def test_html_fallback_is_plain_text() -> None:
    assert html_to_plain("<b>a &amp; b</b>") == "a & b"


async def test_bot_api_outage_is_ridden_out(tg: TelegramHarness, ana_chat: ChatSpec) -> None:
    assert tg.bot is not None
    engine = tg.bot.services.engine
    await engine.run("pos", ["carga"])
    entered, release = hold_forward(engine, "pos")
    tg.server.mark(ana_chat.id)
    tg.server.user_sends(ana_chat, ANA, "/pos El gato duerme")
    await asyncio.to_thread(entered.wait, 10)
    tg.server.set_unreachable(True)  # down while the reply is being sent
    release.set()
    await asyncio.sleep(1.5)
    tg.server.set_unreachable(False)
    [reply] = await tg.server.wait_for_messages(ana_chat.id, 1, timeout=30)
    assert "gato" in reply["plain_text"]

    tg.server.set_unreachable(True)  # down while a new message waits to be fetched
    tg.server.mark(ana_chat.id)
    tg.server.user_sends(ana_chat, ANA, "/ayuda")
    await asyncio.sleep(1.5)
    tg.server.set_unreachable(False)
    [later] = await tg.server.wait_for_messages(ana_chat.id, 1, timeout=40)
    assert "/traducir" in later["plain_text"]


async def test_rejected_formatting_is_resent_as_plain_text(
    tg: TelegramHarness, ana_chat: ChatSpec
) -> None:
    from bot.request import Reply, Request

    assert tg.bot is not None
    tg.server.mark(ana_chat.id)
    await tg.bot.send_reply(Request(ana_chat.id, ANA.id), Reply.text("<foo>a & b</foo>"), None)
    [sent] = tg.server.since_mark(ana_chat.id)
    assert sent["parse_mode"] is None and sent["text"] == "a & b"
