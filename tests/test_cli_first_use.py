"""First use from the command line: the console while a model downloads or the hub is away, and
`prefetch` saying how each model went as it goes.

The hub is a local stand-in (tests/fake_hub.py) serving the tiny models under their real ids,
or an address that refuses connections; each run gets an empty hub cache.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bot import texts
from bot.__main__ import prefetch
from bot.config import Settings
from bot.engine.registry import TASK_KEYS, get_spec
from bot.formatting import html_to_plain
from tests.fake_hub import FakeHub, closed_endpoint, go_online
from tests.test_cli import assert_in_order, bot_env, start_bot

TASK = "translate_es_en"
MODEL = get_spec(TASK).default_model
NOTICE = html_to_plain(texts.MODEL_PREPARING.format(task=texts.TASK_NAMES[TASK]))
ANSWER_WAIT_S = 10.0


def hub_env(tmp_path: Path, endpoint: str, models: dict[str, Path]) -> dict[str, str]:
    """A bot process online against `endpoint`, `models` on disk, every other id the default."""
    env = bot_env(models, tmp_path / "data")
    env.update(HF_HUB_OFFLINE="0", HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / "hf-home"))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE"):
        env.pop(name, None)
    return env


class Lines:
    """A process's standard output, line by line as it comes, each with the time it came."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[tuple[float, str]] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout

        def read() -> None:
            for line in iter(stream.readline, ""):
                self._queue.put(line)
            self._queue.put(None)

        threading.Thread(target=read, daemon=True).start()

    def until(self, text: str, timeout: float) -> float:
        """Read until a line containing `text`; the time it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s in:\n{self.text}") from None
            if line is None:
                raise AssertionError(f"output ended without {text!r}:\n{self.text}")
            self.seen.append((time.monotonic(), line))
            if text in line:
                return self.seen[-1][0]

    def rest(self) -> str:
        while (line := self._queue.get(timeout=60)) is not None:
            self.seen.append((time.monotonic(), line))
        return self.text

    @property
    def text(self) -> str:
        return "".join(line for _, line in self.seen)


def ask_console(env: dict[str, str], cwd: Path, line: str, answer: str) -> tuple[float, str]:
    """Start the piped console, send `line` once it is ready; seconds to `answer`, all output."""
    process = start_bot(["console"], env, cwd)
    output = Lines(process)
    assert process.stdin is not None
    try:
        output.until(texts.CONSOLE_INTRO[:20], timeout=120)
        asked = time.monotonic()
        process.stdin.write(line + "\n")
        process.stdin.flush()
        answered = output.until(answer, timeout=120)
        process.stdin.close()
        text = output.rest()
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
    return answered - asked, text


def test_with_no_hub_the_console_answers_at_once_naming_prefetch_and_the_setting(
    tmp_path: Path,
) -> None:
    env = hub_env(tmp_path, closed_endpoint(), {})  # every model id the default
    seconds, out = ask_console(env, tmp_path, "/traducir Hoy hace sol.", "prefetch")

    assert seconds < ANSWER_WAIT_S, out
    assert_in_order(out, [NOTICE, "python -m bot prefetch", "MODEL_TRANSLATE_ES_EN"])
    for noise in ("Traceback", "Warning", "WARNING", "huggingface", "Retrying"):
        assert noise not in out, out


def test_the_console_shows_a_slow_first_download_then_the_answer(
    tmp_path: Path, tiny_models: dict[str, Path]
) -> None:
    others = {key: path for key, path in tiny_models.items() if key != TASK}
    with FakeHub({MODEL: tiny_models[TASK]}, seconds_per_file=0.6) as hub:
        env = hub_env(tmp_path, hub.endpoint, others)
        _, out = ask_console(env, tmp_path, "/traducir Hoy hace sol.", "→ inglés")

    # Piped, the notice and its progress are lines of their own, before the answer.
    assert_in_order(out, [NOTICE, "MB)…", "%", "→ inglés"])
    assert "\r" not in out


# prefetch, in this process: its lines are timed as they are written
class TimedOutput:
    """A stdout that remembers when each line was written."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines += [(time.monotonic(), line) for line in complete if line]
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def first(self, text: str) -> tuple[float, str]:
        return next((at, line) for at, line in self.lines if text in line)


def on_hub(make_settings: Callable[..., Settings], *keys: str) -> Settings:
    """Settings with `keys` under their real hub ids, the rest on their tiny folders."""
    return make_settings(**{f"model_{key}": get_spec(key).default_model for key in keys})


def test_prefetch_says_how_each_model_went_as_it_goes(
    make_settings: Callable[..., Settings],
    tiny_models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pos = get_spec("pos").default_model
    with FakeHub({MODEL: tiny_models[TASK], pos: tiny_models["pos"]}, 0.3) as hub:
        go_online(monkeypatch, tmp_path / "hub-cache", hub.endpoint)
        with redirect_stdout(out := TimedOutput()):
            code = prefetch(on_hub(make_settings, TASK, "pos"), check=False)

    assert code == 0, out.lines
    outcomes = [line for _, line in out.lines if "  ok: " in line or "local folder" in line]
    assert [line.split()[0] for line in outcomes] == list(TASK_KEYS)
    for key, model in ((TASK, MODEL), ("pos", pos)):
        progress_at, _ = out.first(f"{key}  {model}  ")
        done_at, done = out.first(f"{key}  {model}  ok: ")
        assert progress_at < done_at and " MB in " in done
    # Each line comes as soon as its model is done, not all of them at the end.
    assert out.first(f"{TASK}  {MODEL}  ok")[0] < out.first(f"pos  {pos}  ok")[0] - 1.0


def test_prefetch_without_a_hub_fails_each_hub_model_at_once(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    go_online(monkeypatch, tmp_path / "hub-cache", closed_endpoint())
    started = time.monotonic()
    with redirect_stdout(out := TimedOutput()):
        code = prefetch(on_hub(make_settings, TASK, "pos"), check=False)

    assert code == 1
    assert time.monotonic() - started < 5.0
    errors = [line for _, line in out.lines if "  error: " in line]
    assert [line.split()[0] for line in errors] == [TASK, "pos"]
    assert all("cannot be reached" in line for line in errors)


def test_prefetch_check_downloads_and_reports_each_model_before_the_table(
    make_settings: Callable[..., Settings],
    tiny_models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.prefetch.TASK_KEYS", ("pos", TASK))
    with FakeHub({MODEL: tiny_models[TASK]}, 0.1) as hub:
        go_online(monkeypatch, tmp_path / "hub-cache", hub.endpoint)
        with redirect_stdout(out := TimedOutput()):
            prefetch(on_hub(make_settings, TASK), check=True)

    lines = [line for _, line in out.lines]
    table = next(i for i, line in enumerate(lines) if "│" in line)
    assert [line.split()[0] for line in lines[:table] if "probes ok" in line] == ["pos", TASK]
    assert any(line.startswith(f"{TASK}  {MODEL}  asking the hub") for line in lines[:table])
    assert hub.downloads()
