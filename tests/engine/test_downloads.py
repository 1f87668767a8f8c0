"""A model's first use: fetched from the hub with its size and progress, or a fast, named failure.

The hub is a local stand-in (tests/fake_hub.py) serving the tiny models under their real ids,
or an address that refuses or never answers; the cache is a temporary folder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import pytest
from huggingface_hub import constants

from bot import texts
from bot.config import Settings
from bot.engine import Engine, HubUnreachable, ModelUnavailable
from bot.engine.downloads import HUB_TIMEOUT_S, cached_folder
from bot.engine.registry import get_spec
from bot.progress import ModelFetch, fetch_notice, reporting_to
from tests.fake_hub import FakeHub, blackhole, closed_endpoint, go_online

TASK = "translate_es_en"
MODEL = get_spec(TASK).default_model


class Shown:
    """A progress sink that keeps every text it was shown."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def show(self, text: str) -> None:
        self.texts.append(text)


@pytest.fixture
def hub_cache(tmp_path: Path) -> Path:
    return tmp_path / "hub-cache"


@pytest.fixture
def hub_settings(make_settings: Callable[..., Settings]) -> Settings:
    """The translator under its real hub id; every other task on its tiny folder."""
    return make_settings(model_translate_es_en=MODEL)


async def test_first_use_shows_the_notice_its_size_and_progress_then_answers(
    hub_cache: Path,
    hub_settings: Settings,
    tiny_models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeHub({MODEL: tiny_models[TASK]}, seconds_per_file=0.1) as hub:
        go_online(monkeypatch, hub_cache, hub.endpoint)
        engine = Engine(hub_settings)
        shown = Shown()
        try:
            with reporting_to(shown):
                [translation] = await engine.run(TASK, ["Hoy hace sol."])
        finally:
            await engine.close()
        assert translation
        total = sum(path.stat().st_size for path in hub.files(MODEL).values())
        task = texts.TASK_NAMES[TASK]
        assert shown.texts[0] == texts.MODEL_PREPARING.format(task=task)
        assert shown.texts[1] == fetch_notice(ModelFetch(TASK, MODEL, 0, total))
        assert "~" in shown.texts[1]
        assert shown.texts[-1].endswith("100 %")
        assert sorted(hub.downloads()) == sorted(
            f"/{MODEL}/resolve/main/{name}" for name in hub.files(MODEL)
        )

        # From now on the model is on disk: it loads from the cache without asking the hub.
        assert cached_folder(MODEL) is not None
        hub.requests.clear()
        again, shown_again = Engine(hub_settings), Shown()
        try:
            with reporting_to(shown_again):
                assert await again.run(TASK, ["Hoy hace sol."]) == [translation]
        finally:
            await again.close()
        assert hub.requests == [] and shown_again.texts == []


async def test_requests_waiting_for_the_same_download_all_see_its_progress(
    hub_cache: Path,
    hub_settings: Settings,
    tiny_models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeHub({MODEL: tiny_models[TASK]}, seconds_per_file=0.2) as hub:
        go_online(monkeypatch, hub_cache, hub.endpoint)
        engine = Engine(hub_settings)
        first, second = Shown(), Shown()

        async def ask(sink: Shown, text: str) -> list[str]:
            with reporting_to(sink):
                return await engine.run(TASK, [text])

        try:
            started = asyncio.create_task(ask(first, "Hola."))
            await asyncio.sleep(0.3)  # the download is under way when the second one asks
            results = await asyncio.gather(started, ask(second, "Adiós."))
        finally:
            await engine.close()
        assert all(results)
        assert first.texts[0] == texts.MODEL_PREPARING.format(task=texts.TASK_NAMES[TASK])
        assert second.texts and second.texts[-1] == first.texts[-1]


@pytest.mark.parametrize("hub", ["refuses", "never answers"])
async def test_an_unreachable_hub_is_known_within_5_s_and_for_30_s_after(
    hub_cache: Path,
    hub_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    hub: str,
) -> None:
    engine = Engine(hub_settings)
    shown = Shown()
    with (
        blackhole() if hub == "never answers" else nullcontext(closed_endpoint()) as endpoint,
        caplog.at_level(logging.INFO),
    ):
        go_online(monkeypatch, hub_cache, endpoint)
        try:
            started = time.perf_counter()
            with reporting_to(shown), pytest.raises(HubUnreachable) as info:
                await engine.run(TASK, ["Hoy hace sol."])
            first = time.perf_counter() - started
            # Remembered: the next request fails at once, without a new connection attempt.
            started = time.perf_counter()
            with pytest.raises(HubUnreachable):
                await engine.run(TASK, ["Otra vez."])
            again = time.perf_counter() - started
            assert await engine.run("pos", ["El gato duerme."])  # other models still work
        finally:
            await engine.close()
    assert first < HUB_TIMEOUT_S + 1.5, first
    assert again < 0.5, again
    assert info.value.setting == "MODEL_TRANSLATE_ES_EN" and info.value.model_id == MODEL
    assert shown.texts == [texts.MODEL_PREPARING.format(task=texts.TASK_NAMES[TASK])]
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    line = problems[0].getMessage()
    assert MODEL in line and endpoint in line and "cannot be reached" in line
    assert "\n" not in line


async def test_offline_mode_fails_at_once_without_a_notice(
    hub_cache: Path, hub_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    go_online(monkeypatch, hub_cache, closed_endpoint())
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    engine = Engine(hub_settings)
    shown = Shown()
    try:
        started = time.perf_counter()
        with reporting_to(shown), pytest.raises(HubUnreachable) as info:
            await engine.run(TASK, ["Hoy hace sol."])
    finally:
        await engine.close()
    assert time.perf_counter() - started < 1.0
    assert "HF_HUB_OFFLINE" in info.value.reason
    assert shown.texts == []


async def test_a_model_the_hub_does_not_have_is_unavailable_not_unreachable(
    hub_cache: Path,
    make_settings: Callable[..., Settings],
    tiny_models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeHub({MODEL: tiny_models[TASK]}) as hub:
        go_online(monkeypatch, hub_cache, hub.endpoint)
        engine = Engine(make_settings(model_translate_es_en="nadie/no-existe"))
        try:
            with pytest.raises(ModelUnavailable) as info:
                await engine.run(TASK, ["Hola."])
        finally:
            await engine.close()
    assert not isinstance(info.value, HubUnreachable)
    assert "no such model on the hub" in info.value.reason
