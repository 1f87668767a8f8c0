"""The console as its operator uses it: a real `python -m bot console`, piped and signalled."""

from __future__ import annotations

import asyncio
import io
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import texts
from bot.console import ConsoleChat
from bot.services import Services
from tests.test_cli import assert_in_order, bot_env, plain, run_bot

# The stop's promise: Docker sends SIGKILL 10 s after SIGTERM.
STOP_LIMIT_S = 10.0


@pytest.fixture
def env(tiny_models: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    return bot_env(tiny_models, tmp_path / "data")


def test_forty_piped_commands_each_get_their_own_reply_and_estado_answers(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Twice the default RATE_LIMIT_PER_MINUTE, and no ADMIN_USERS: the console is the operator's.
    lines = [f"/contexto {'palabra ' * n}" for n in range(1, 41)] + ["/estado"]

    result = run_bot(["console"], env, tmp_path, stdin="\n".join(lines) + "\n")

    assert result.returncode == 0, result.stderr
    replies = [texts.WORDS.count(n) for n in range(1, 41)]
    assert_in_order(result.stdout, [*replies, plain(texts.STATUS_TITLE)])
    assert plain(texts.RATE_LIMITED) not in result.stdout
    assert texts.ADMIN_ONLY not in result.stdout


def test_question_mode_left_on_is_recalled_in_the_next_session(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = run_bot(
        ["console"], env, tmp_path, stdin="/contexto Ana vive en Lima desde 1998.\n/pregunta\n"
    )
    assert first.returncode == 0, first.stderr

    second = run_bot(
        ["console"], env, tmp_path, stdin="¿Dónde vive Ana?\n3\n¿Desde cuándo?\n/fin\n"
    )

    assert second.returncode == 0, second.stderr
    reminder = plain(texts.QUESTIONS_STILL_ON)
    assert_in_order(
        second.stdout,
        [
            reminder,
            plain(texts.ANSWER_CONFIDENCE),
            texts.CONSOLE_NO_MENU,  # a menu number from an earlier session is no question
            plain(texts.ANSWER_CONFIDENCE),
            plain(texts.QUESTIONS_ENDED),
        ],
    )
    assert second.stdout.count(reminder) == 1


def test_the_terminal_shows_the_chat_only_and_the_log_file_gets_each_warning_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Libraries warn while a model loads: through their own loggers (huggingface_hub also has
    # a handler of its own), with Python's warnings, and with progress bars.
    noisy_load = """
import sys, warnings
import bot.engine.loading as loading
real_load = loading.load_model

def noisy_load(*args, **kwargs):
    from huggingface_hub.utils import logging as hub_logging, tqdm as hub_tqdm
    from transformers.utils import logging as hf_logging
    for _ in range(3):
        hub_logging.get_logger("huggingface_hub.file_download").warning("hub says retry")
        hf_logging.get_logger("transformers.modeling_utils").error("transformers complains")
        warnings.warn("python warns")
    for _ in hub_tqdm(range(3), desc="progress bar"):
        pass
    return real_load(*args, **kwargs)

loading.load_model = noisy_load
from bot.__main__ import main
sys.exit(main(["console"]))
"""
    process = subprocess.run(
        [sys.executable, "-c", noisy_load],
        input="/sentimiento Me encanta\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    log_file = Path(env["DATA_DIR"]) / "tertulia.log"
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    assert_in_order(
        process.stdout,
        [texts.CONSOLE_INTRO, texts.CONSOLE_LOG_FILE.format(path=log_file), "Sentimiento: "],
    )
    for noise in ("hub says retry", "transformers complains", "python warns", "progress bar"):
        assert noise not in process.stdout
    log = log_file.read_text()
    assert log.count("hub says retry") == 1
    assert log.count("python warns") == 1
    [complaint] = [line for line in log.splitlines() if "transformers complains" in line]
    assert " WARNING transformers.modeling_utils: " in complaint
    assert "progress bar" not in log
    assert "outcome=ok" in log


async def test_the_prompt_says_when_plain_lines_are_questions(services: Services) -> None:
    out = io.StringIO()
    lines = "/contexto Ana vive en Lima.\n/pregunta\n¿Dónde vive?\n/fin\n"

    await ConsoleChat(services, out=out).run(io.StringIO(lines), prompt=True)

    shown = out.getvalue()
    assert shown.count(texts.CONSOLE_PROMPT_QUESTIONS) == 2  # before the question and /fin
    assert shown.endswith(texts.CONSOLE_PROMPT)  # after /fin, a plain prompt again
    assert not shown.endswith(texts.CONSOLE_PROMPT_QUESTIONS)


# Stopping while a model load cannot be interrupted: the load waits an hour in its thread.
BLOCKED_LOAD = """
import sys, time
from pathlib import Path
import bot.engine.loading as loading

def blocked_load(*args, **kwargs):
    Path(sys.argv[1]).write_text("loading")
    time.sleep(3600)

loading.load_model = blocked_load
from bot.__main__ import main
sys.exit(main(["console"]))
"""


async def stop_during_a_blocked_load(
    env: dict[str, str], tmp_path: Path, signals: list[signal.Signals]
) -> tuple[int, float, str]:
    """Starts a load that never ends, sends `signals` half a second apart; (code, seconds, out)."""
    started = tmp_path / "load-started"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BLOCKED_LOAD,
        str(started),
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdin is not None
        process.stdin.write(b"/sentimiento Me encanta\n")
        await process.stdin.drain()  # left open: the console waits for more
        for _ in range(600):
            if started.exists() or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert started.exists(), "the model load never started"
        sent = time.monotonic()
        for number, signum in enumerate(signals):
            if number:
                await asyncio.sleep(0.5)
            process.send_signal(signum)
        out, _ = await asyncio.wait_for(process.communicate(), STOP_LIMIT_S + 20)
        return process.returncode or 0, time.monotonic() - sent, out.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def assert_database_closed_cleanly(data_dir: Path) -> None:
    """SQLite removes the write-ahead log when its last connection closes properly."""
    database = data_dir / "tertulia.sqlite3"
    assert database.exists()
    assert not database.with_name(database.name + "-wal").exists()
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_ctrl_c_during_a_blocked_model_load_exits_within_10_s_with_code_0(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, seconds, out = await stop_during_a_blocked_load(env, tmp_path, [signal.SIGINT])

    assert code == 0, out
    assert seconds < STOP_LIMIT_S, f"exited after {seconds:.1f} s"
    assert texts.SHUTTING_DOWN in out  # the request in flight was told
    assert_database_closed_cleanly(Path(env["DATA_DIR"]))


async def test_a_second_signal_exits_at_once(env: dict[str, str], tmp_path: Path) -> None:
    code, seconds, out = await stop_during_a_blocked_load(
        env, tmp_path, [signal.SIGTERM, signal.SIGTERM]
    )

    assert code == 0, out
    assert seconds < 3.0, f"exited after {seconds:.1f} s"
    assert_database_closed_cleanly(Path(env["DATA_DIR"]))
