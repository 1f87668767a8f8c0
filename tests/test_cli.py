"""The command line as people run it: real `python -m bot` processes, piped, signalled, logged."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import texts
from bot.__main__ import prefetch
from bot.config import Settings
from bot.engine.probes import PROBES, Case, Probe, probes_for
from bot.formatting import html_to_plain
from bot.logs import REDACTED, ScrubbingFormatter, secret_variants
from bot.runtime import Shutdown, close_services, open_services
from bot.telegram_app import TelegramBot
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.telegram_chats import UserSpec, private_chat
from tests.tiny_models import corrupt_model_folder

REPO = Path(__file__).resolve().parents[1]
ANA = UserSpec(id=1001, first_name="Ana", username="ana")
# Takes a couple of seconds with the tiny models, greedy (GREEDY_TRANSLATION): translated
# sentence by sentence.
SLOW_REQUEST = "/traducir en: " + "El gato duerme en el sofá. " * 300
GREEDY_TRANSLATION = {"GENERATION_TRANSLATE_ES_EN": "num_beams=1"}


def plain(text: str) -> str:
    """The fixed start of a Spanish text as the user sees it (before any placeholder)."""
    return html_to_plain(text.split("{")[0])


def bot_env(models: dict[str, Path], data_dir: Path, **settings: str) -> dict[str, str]:
    """A bot process's environment: tiny models, offline, none of our own settings inherited."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update({f"MODEL_{key.upper()}": str(path) for key, path in models.items()})
    env.update(
        HF_HUB_OFFLINE="1",
        TORCH_THREADS="1",
        DATA_DIR=str(data_dir),
        PYTHONPATH=str(REPO),
        TOKENIZERS_PARALLELISM="false",
    )
    env.update(settings)
    return env


def start_bot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`python -m bot ...` reading a pipe; cwd away from the repo so no `.env` is read."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_bot(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    process = start_bot(args, env, cwd)
    out, err = process.communicate(stdin, timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def assert_in_order(output: str, expected: list[str]) -> None:
    """Each expected text appears in `output`, each after the previous one."""
    position = 0
    for text in expected:
        found = output.find(text, position)
        assert found >= 0, f"{text!r} missing after position {position} in:\n{output}"
        position = found + len(text)


def table_rows(output: str, key: int = 0) -> dict[str, list[str]]:
    """A rich table's rows by their `key` cell, wrapped cells joined back together.

    A row starts where its first cell has text; a line with an empty first cell continues it.
    """
    rows: list[list[str]] = []
    for line in output.splitlines():
        if line.count("│") < 3:
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1][:] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return {row[key]: row for row in rows}


@pytest.fixture
def env(tiny_models: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    return bot_env(tiny_models, tmp_path / "data")


# The console
CONSOLE_SESSION = [
    ("/ayuda", plain(texts.WELCOME)),
    ("/traducir en: Hoy hace un día precioso para pasear.", "→ inglés"),
    (
        "/resumir El tren llegó tarde. Nadie dijo nada. La gente esperó en el andén.",
        plain(texts.SUMMARY_TITLE),
    ),
    (
        "/contexto El Quijote fue escrito por Miguel de Cervantes. Se publicó en 1605.",
        plain(texts.CONTEXT_SET),
    ),
    ("/pregunta ¿Quién escribió el Quijote?", plain(texts.ANSWER_CONFIDENCE)),
    ("/pregunta", plain(texts.QUESTIONS_STARTED)),
    ("¿Cuándo se publicó?", plain(texts.ANSWER_CONFIDENCE)),
    ("/fin", plain(texts.QUESTIONS_ENDED)),
    ("/clasificar El Madrid ganó la final | deportes, política", plain(texts.CLASSIFY_TITLE)),
    ("/sentimiento Me encantó la película", plain(texts.SENTIMENT_TITLE)),
    ("/idioma Bonjour tout le monde", plain(texts.LANGUAGE_TITLE)),
    ("/completar La capital de Francia es <mask>.", plain(texts.FILL_TITLE)),
    ("/poema La luna sobre el mar", texts.POEM_AGAIN),
    ("/pos El gato duerme en el sofá", plain(texts.POS_TITLE)),
    ("/estado", plain(texts.STATUS_TITLE)),
    ("/olvidar", plain(texts.FORGOTTEN)),
    ("Me ha encantado la película", texts.CHOOSE_ACTION),
    ("3", plain(texts.SENTIMENT_TITLE)),
    ("/noexiste", texts.UNKNOWN_COMMAND),
]


def test_piped_console_answers_every_command_in_order_and_exits_at_end_of_input(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Two processes side by side: the `console` command with a whole session, and the bare
    # command without a token, which must fall back to the console and say how to get Telegram.
    session = start_bot(["console"], {**env, "ADMIN_USERS": "1"}, tmp_path)
    default = start_bot([], {**env, "DATA_DIR": str(tmp_path / "other")}, tmp_path)
    out, err = session.communicate(
        "\n".join(line for line, _ in CONSOLE_SESSION) + "\n", timeout=120
    )
    default_out, default_err = default.communicate("/ayuda\n", timeout=120)

    assert session.returncode == 0, err
    assert_in_order(out, [texts.CONSOLE_INTRO] + [reply for _, reply in CONSOLE_SESSION])
    assert texts.CONSOLE_TELEGRAM_HINT not in out
    assert default.returncode == 0, default_err
    assert_in_order(
        default_out, [texts.CONSOLE_TELEGRAM_HINT, texts.CONSOLE_INTRO, plain(texts.WELCOME)]
    )


# prefetch and status
PROBE_COLUMN = 2


def test_prefetch_check_on_random_stand_ins_exits_1_naming_each_failed_probe(
    env: dict[str, str], tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    result = run_bot(["prefetch", "--check"], env, tmp_path)

    # Random weights cannot know any answer: every probe fails but the poem's, which only asks
    # for words after the opening. That they fail is what shows they test something.
    assert result.returncode == 1, result.stderr
    rows = table_rows(result.stdout, key=PROBE_COLUMN)
    assert set(rows) == {probe.name for probe in PROBES}
    for probe in PROBES:
        task, model, _, expected, got, seconds, megabytes, outcome = rows[probe.name]
        assert (task, expected) == (probe.task, probe.expected)
        assert got and outcome == ("ok" if probe.task == "poem" else "failed"), rows[probe.name]
        if probe is probes_for(task)[0]:  # a model's name and load figures on its first row
            assert model.replace(" ", "") == str(tiny_models[task])
            assert float(seconds) > 0 and float(megabytes) > 0
    summary = result.stdout.split("probes failed:", 1)[1]
    failed = [p for p in PROBES if p.task != "poem"]
    assert f"{len(failed)} of {len(PROBES)} probes failed" in result.stdout
    assert_in_order(" ".join(summary.split()), [f"{p.task}: {p.name}" for p in failed])


def test_prefetch_check_fails_with_the_broken_model_marked_error(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = corrupt_model_folder(tmp_path / "broken")
    settings = make_settings(model_zero_shot=str(broken))

    code = prefetch(settings, check=True)

    assert code == 1
    rows = table_rows(capsys.readouterr().out, key=PROBE_COLUMN)
    assert len(rows) == len(PROBES)
    [zero_shot] = probes_for("zero_shot")
    assert rows[zero_shot.name][-1] == "error"
    assert rows[zero_shot.name][1].replace(" ", "") == str(broken)
    assert "SafetensorError" in rows[zero_shot.name][4]
    assert {row[-1] for name, row in rows.items() if name != zero_shot.name} == {"ok", "failed"}


def test_prefetch_check_exits_0_when_every_probe_gets_its_answer(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Probes any model passes (it only has to answer) stand in for real models' right answers."""
    answers = Case("Hola.", "an answer", lambda result: (True, "yes"))
    monkeypatch.setattr(
        "bot.prefetch.probes_for",
        lambda key: [Probe(key, f"{key} answers", (answers,))] if key == "pos" else [],
    )
    code = prefetch(make_settings(), check=True)

    output = capsys.readouterr().out
    assert code == 0, output
    rows = table_rows(output, key=PROBE_COLUMN)
    # A task without probes only has to answer its smoke input.
    assert rows["pos answers"][-1] == rows["runs"][-1] == "ok"
    assert "failed" not in output


def test_status_prints_each_configured_model_without_loading_it(
    env: dict[str, str], tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    result = run_bot(["status"], env, tmp_path)

    assert result.returncode == 0, result.stderr
    for key, folder in tiny_models.items():
        assert_in_order(result.stdout, [texts.STATUS_MODEL_IDLE.format(key=key), str(folder)])
    assert "loaded" not in result.stderr


def test_preload_of_an_unknown_task_is_refused_at_start_with_exit_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run_bot(["status"], {**env, "PRELOAD": "qa,nope"}, tmp_path)

    assert result.returncode == 2
    assert "PRELOAD names unknown tasks: nope" in result.stderr


@pytest.mark.parametrize("command", ["ingress", "worker"])
def test_ingress_and_worker_without_redis_url_are_refused_with_exit_2(
    command: str, tmp_path: Path
) -> None:
    env = bot_env({}, tmp_path / "data", TELEGRAM_BOT_TOKEN="123456:" + "A" * 35, REDIS_URL="")
    result = run_bot([command], env, tmp_path)

    assert result.returncode == 2
    assert f"REDIS_URL is required by `{command}`" in result.stderr


# Telegram in a process of its own, against the fake Bot API in the test's event loop
@contextlib.asynccontextmanager
async def bot_process(
    args: list[str], env: dict[str, str], folder: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A bot process whose output goes to files (a pipe left unread would block it)."""
    with (folder / "stdout.log").open("wb") as out, (folder / "stderr.log").open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def output_of(folder: Path) -> str:
    return (folder / "stdout.log").read_text() + (folder / "stderr.log").read_text()


def telegram_env(env: dict[str, str], server: BotApiServer, **settings: str) -> dict[str, str]:
    return {
        **env,
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_BASE_URL": server.base_url,
        "TELEGRAM_BASE_FILE_URL": server.base_file_url,
        **settings,
    }


async def stop(process: asyncio.subprocess.Process, timeout: float = 15.0) -> int:
    """SIGTERM, then the exit code once the process is gone."""
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_mode_registers_and_refuses_requests_without_the_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    secret = "webhook-secret-for-the-test"
    chat = private_chat(ANA)
    async with (
        BotApiServer() as server,
        bot_process(
            ["webhook"],
            telegram_env(
                env,
                server,
                WEBHOOK_URL=url,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),
                WEBHOOK_SECRET=secret,
            ),
            tmp_path,
        ) as process,
        aiohttp.ClientSession() as http,
    ):
        await server.wait_until(lambda: server.webhook_url == url, timeout=60)

        async def post(update: dict[str, Any], token: str) -> int:
            """POST like Telegram; PTB sets the webhook just before its server listens."""
            headers = {"X-Telegram-Bot-Api-Secret-Token": token}
            for _ in range(100):
                try:
                    async with http.post(url, json=update, headers=headers) as response:
                        return response.status
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            raise AssertionError(f"nothing listens at {url}")

        server.mark(chat.id)
        assert await post(server.user_sends(chat, ANA, "/ayuda"), "wrong-secret") == 403
        await server.expect_silence(chat.id, 1.0)
        assert await post(server.user_sends(chat, ANA, "/ayuda"), secret) == 200
        [reply] = await server.wait_for_messages(chat.id, 1, timeout=30)
        assert plain(texts.WELCOME) in reply["plain_text"]
        assert await stop(process) == 0
    assert secret not in output_of(tmp_path)


async def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    env: dict[str, str], tmp_path: Path
) -> None:
    chat = private_chat(ANA)
    async with (
        BotApiServer() as server,
        bot_process(
            ["polling"], telegram_env(env, server, **GREEDY_TRANSLATION), tmp_path
        ) as process,
    ):
        await server.wait_until(lambda: bool(server.calls("getUpdates")), timeout=60)
        server.user_sends(chat, ANA, SLOW_REQUEST)
        await server.wait_until(lambda: "typing" in server.chat_actions(chat.id), timeout=30)

        code = await stop(process)

        assert code == 0, output_of(tmp_path)
        replies = [message["plain_text"] for message in server.messages(chat.id)]
        assert "→ inglés" in replies[0] or replies == [texts.SHUTTING_DOWN]
    assert "Tertulia stopped" in output_of(tmp_path)


async def test_a_request_still_running_when_the_grace_period_ends_gets_an_apology(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never_answers(*_: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr("bot.telegram_app.dispatch", never_answers)
    chat = private_chat(ANA)
    async with BotApiServer() as server:
        bot = TelegramBot(
            await open_services(
                make_settings(
                    telegram_bot_token=server.token,
                    telegram_base_url=server.base_url,
                    telegram_base_file_url=server.base_file_url,
                )
            )
        )
        await bot.start(poll_timeout=1)
        try:
            server.user_sends(chat, ANA, "/resumir Un texto que nunca se resume.")
            await server.wait_until(lambda: bool(bot.in_flight))

            await Shutdown().finish(set(bot.in_flight), grace=0.2)

            [reply] = await server.wait_for_messages(chat.id, 1)
            assert reply["plain_text"] == texts.SHUTTING_DOWN
            assert not bot.in_flight
        finally:
            await bot.stop()
            await close_services(bot.services)


# The token never shows
def assert_json_lines_without(output: str, secrets: list[str]) -> list[dict[str, Any]]:
    """Every line is a JSON object and no secret appears; returns the parsed lines."""
    for secret in secrets:
        assert secret not in output
    records = []
    for line in output.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"not a JSON line: {line!r}")
    return records


async def test_debug_json_logs_of_a_session_with_errors_never_show_the_token(
    env: dict[str, str], tmp_path: Path
) -> None:
    chat = private_chat(ANA)
    async with BotApiServer() as server:
        settings = telegram_env(
            env,
            server,
            LOG_LEVEL="DEBUG",
            LOG_FORMAT="json",
            MODEL_SENTIMENT=str(tmp_path / "no-such-model"),
        )
        async with bot_process(["polling"], settings, tmp_path) as process:
            await server.wait_until(lambda: bool(server.calls("getUpdates")), timeout=60)
            server.mark(chat.id)
            server.user_sends(chat, ANA, "/sentimiento Me encanta")
            server.user_sends(chat, ANA, "/noexiste")
            # PTB logs updates at DEBUG, so this puts the token into would-be log lines.
            server.user_sends(chat, ANA, f"/idioma mi token es {server.token}")
            await server.wait_for_messages(chat.id, 3, timeout=60)
            assert await stop(process) == 0

        records = assert_json_lines_without(output_of(tmp_path), secret_variants(server.token))
        outcomes = [r.get("outcome") for r in records if r["message"] == "request"]
        assert outcomes == ["ModelUnavailable", "ok", "ok"]
        assert any(REDACTED in r["message"] for r in records if r["level"] == "DEBUG")

        # A token the server rejects: PTB's InvalidToken message quotes it.
        rejected = "987654321:REJECTED-token-that-must-not-show"
        async with bot_process(
            ["polling"], {**settings, "TELEGRAM_BOT_TOKEN": rejected}, tmp_path
        ) as process:
            assert await asyncio.wait_for(process.wait(), 60) == 1
        records = assert_json_lines_without(output_of(tmp_path), secret_variants(rejected))
        [fatal] = [r for r in records if r["level"] == "CRITICAL"]
        assert "InvalidToken" in fatal["message"] and REDACTED in fatal["message"]
        assert "Traceback" in fatal["traceback"]


def test_what_python_prints_by_itself_is_scrubbed_too(tmp_path: Path) -> None:
    token = "123456789:SECRET-printed-by-python"
    script = """
import threading, warnings
from bot.config import Settings
from bot.logs import setup_logging
setup_logging(Settings())
token = Settings().token
print("stdout", token)
warnings.warn(f"a warning with {token}")
thread = threading.Thread(target=lambda: 1 / 0 if token else None, name="worker")
thread.start(); thread.join()
raise RuntimeError(f"https://api.telegram.org/bot{token.replace(':', '%3A')}/getMe")
"""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(REPO), "TELEGRAM_BOT_TOKEN": token, "LOG_FORMAT": "json"},
    )

    assert result.returncode == 1
    assert result.stdout == f"stdout {REDACTED}\n"
    records = assert_json_lines_without(result.stderr, secret_variants(token))
    assert [r["logger"] for r in records] == ["py.warnings", "tertulia", "tertulia"]
    assert "ZeroDivisionError" in records[1]["traceback"]
    assert f"bot123456789%3A{REDACTED}/getMe" in records[2]["traceback"]


@pytest.mark.parametrize("as_json", [True, False])
def test_formatter_scrubs_the_token_from_messages_and_tracebacks(as_json: bool) -> None:
    token = "123456789:AAHf-secret-part-of-the-token"
    formatter = ScrubbingFormatter(secret_variants(token), as_json=as_json)
    try:
        raise ConnectionError(f"GET https://api.telegram.org/bot{token}/getMe failed")
    except ConnectionError:
        record = logging.LogRecord(
            "telegram.ext.Updater",
            logging.ERROR,
            __file__,
            1,
            "polling %s failed",
            (f"/bot{token}/getUpdates",),
            sys.exc_info(),
        )

    text = formatter.format(record)

    assert token not in text and token.partition(":")[2] not in text
    assert text.count(REDACTED) == 2
    if as_json:
        assert "ConnectionError" in json.loads(text)["traceback"]


def test_short_secrets_are_not_scrubbed_from_ordinary_words() -> None:
    formatter = ScrubbingFormatter(["abc"], as_json=False)
    assert formatter.scrub("abcdef") == "abcdef"


def test_scrubbing_stream_passes_everything_else_through() -> None:
    from bot.logs import ScrubbingStream

    buffer = io.StringIO()
    stream = ScrubbingStream(buffer, ["secret-token-value"])
    stream.write("a secret-token-value b\n")
    assert buffer.getvalue() == f"a {REDACTED} b\n"
    assert stream.getvalue() == buffer.getvalue()
