"""A bot process killed with SIGKILL mid-conversation: the next one carries on where it stopped.

The bot runs as a real `python -m bot polling` subprocess against the fake Bot API server in
the test's event loop, so nothing of the first process survives except the data directory and
the updates the server still holds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.engine.registry import TASK_KEYS
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.conftest import ANA
from tests.e2e.telegram_chats import ChatSpec, private_chat
from tests.tiny_models import build_controlled_qa

REPO = Path(__file__).resolve().parents[2]
READING_TEXT = "Ana nació en Zaragoza. Luego se mudó a la costa."
FIRST_REPLY_S = 60.0
"""Importing torch and loading the first model in a fresh process takes a while on a laptop."""


class BotProcess:
    """One `python -m bot <command>` run, its output kept in a file for failure messages."""

    def __init__(self, env: dict[str, str], log_path: Path, command: str = "polling") -> None:
        self.env = env
        self.log_path = log_path
        self.command = command
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                self.command,
                env=self.env,
                cwd=self.log_path.parent,
                stdout=log,
                stderr=log,
            )

    async def kill(self) -> None:
        """SIGKILL: no shutdown hook, no final offset confirmation, no store close."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as api:
        yield api


@pytest.fixture
def bot_env(server: BotApiServer, tiny_models: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    """The environment of a deployment: every setting as an environment variable."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MODEL_")}
    env.update(
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        HF_HUB_OFFLINE="1",
        DATA_DIR=str(tmp_path / "data"),
        TORCH_THREADS="1",
        RATE_LIMIT_PER_MINUTE="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    env.update({f"MODEL_{key.upper()}": str(tiny_models[key]) for key in TASK_KEYS})
    env["MODEL_QA"] = str(build_controlled_qa(tmp_path / "qa", "Zaragoza"))
    return env


@pytest.fixture
async def bots() -> AsyncIterator[list[BotProcess]]:
    """Bot processes started by the test, all killed at the end whatever happened."""
    started: list[BotProcess] = []
    yield started
    for bot in started:
        await bot.kill()


async def run_bot(bots: list[BotProcess], env: dict[str, str], tmp_path: Path) -> BotProcess:
    bot = BotProcess(env, tmp_path / f"bot-{len(bots) + 1}.log")
    bots.append(bot)
    await bot.start()
    return bot


async def say(
    server: BotApiServer, bot: BotProcess, chat: ChatSpec, text: str, timeout: float = 30.0
) -> tuple[dict[str, Any], int]:
    """Sends a message; returns the bot's one reply and the update's id."""
    server.mark(chat.id)
    update = server.user_sends(chat, ANA, text)
    try:
        [reply] = await server.wait_for_messages(chat.id, 1, timeout=timeout)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- bot output ---\n{bot.output()}") from None
    return reply, int(update["update_id"])


def confirmed(server: BotApiServer, update_id: int) -> bool:
    """Whether the bot has asked for updates past this one, so Telegram would drop it."""
    return any(
        int(call.params.get("offset") or 0) > update_id for call in server.calls("getUpdates")
    )


async def test_sigkill_mid_conversation_loses_neither_reading_text_nor_question_mode(
    server: BotApiServer, bot_env: dict[str, str], bots: list[BotProcess], tmp_path: Path
) -> None:
    chat = private_chat(ANA)
    first = await run_bot(bots, bot_env, tmp_path)
    stored, _ = await say(server, first, chat, f"/contexto {READING_TEXT}", timeout=FIRST_REPLY_S)
    assert "Guardado como texto de lectura" in stored["plain_text"]
    started, _ = await say(server, first, chat, "/pregunta")
    assert "/fin" in started["plain_text"]
    answer, question_id = await say(server, first, chat, "¿Dónde nació Ana?")
    assert "Zaragoza" in answer["plain_text"]
    await server.wait_until(lambda: confirmed(server, question_id), timeout=15.0)

    await first.kill()
    assert first.process is not None and first.process.returncode == -signal.SIGKILL
    second = await run_bot(bots, bot_env, tmp_path)
    again, _ = await say(server, second, chat, "¿Y en qué ciudad nació?", timeout=FIRST_REPLY_S)

    # A question from the same reading text, not the buttons a plain message would get.
    assert "Zaragoza" in again["plain_text"]
    assert READING_TEXT.split(". ")[0] in again["plain_text"]
    assert again["reply_markup"] is None
    # Confirmed updates are not answered a second time by the new process.
    server.mark(chat.id)
    await server.expect_silence(chat.id, duration=1.0)
    sent = [message["plain_text"] for message in server.messages(chat.id)]
    assert len(sent) == 4, sent
    assert not any(texts.SHUTTING_DOWN in text for text in sent)
    assert not server.errors, server.errors
