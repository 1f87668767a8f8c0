"""`prefetch`, `prefetch --check` and `status`: the models, outside a running bot.

`prefetch --check` loads each model and runs its known-answer probes (bot/engine/probes.py):
a model that loads but answers wrong is reported as failed, not ok. Both go one model at a
time and say how each went as soon as it is done; a download reports its progress meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.engine import Engine, EngineError, EngineStatus
from bot.engine.downloads import Report, download_model, fetch_model
from bot.engine.errors import ModelUnavailable
from bot.engine.probes import Case, Probe, probes_for, short
from bot.engine.registry import TASK_KEYS, create_task
from bot.engine.registry import model_id as resolve_model
from bot.progress import ModelFetch, progress_bar


@dataclass
class CheckRow:
    """One probe of one model: what it expected, what the model answered, and the verdict."""

    task: str
    model: str
    probe: str
    expected: str
    got: str
    load_seconds: float
    bytes: int
    outcome: str
    """"ok", "failed" (a wrong answer) or "error" (the model did not load or run: see got)."""


async def check_models(
    settings: Settings,
    keys: list[str] | None = None,
    report: Report | None = None,
    checked: Callable[[list[CheckRow]], None] | None = None,
) -> list[CheckRow]:
    """Load each model and run its known-answer probes (prefetch --check).

    A model not on disk is downloaded first, its progress going to `report`; `checked` gets
    each model's rows as soon as they are known.
    """
    rows: list[CheckRow] = []
    engine = Engine(settings)
    try:
        for key in keys or list(TASK_KEYS):
            model = resolve_model(key, settings.model_for(key))
            try:
                await asyncio.to_thread(fetch_model, key, model, report or _ignore)
            except EngineError as exc:
                model_rows = [
                    CheckRow(key, model, p.name, p.expected, str(exc), 0.0, 0, "error")
                    for p in probes_for(key) or [smoke_probe(key)]
                ]
            else:
                model_rows = await check_model(engine, key)
                engine.unload(key)
            rows += model_rows
            if checked is not None:
                checked(model_rows)
    finally:
        await engine.close()
    return rows


def check_line(rows: list[CheckRow]) -> str:
    """One model's outcome in one line, printed as soon as its probes are done."""
    first = rows[0]
    if errors := [row for row in rows if row.outcome == "error"]:
        return f"{first.task}  {first.model}  error: {errors[0].got}"
    passed = sum(row.outcome == "ok" for row in rows)
    return (
        f"{first.task}  {first.model}  {passed} of {len(rows)} probes ok  "
        f"(loaded in {first.load_seconds:.2f} s, {first.bytes / 2**20:.1f} MB)"
    )


async def check_model(engine: Engine, key: str) -> list[CheckRow]:
    """Every probe of one task's model; a task without probes only has to answer at all."""
    started = time.perf_counter()
    verdicts = [await run_probe(engine, probe) for probe in probes_for(key) or [smoke_probe(key)]]
    slot = engine.status().models[key]
    seconds = slot.load_seconds or time.perf_counter() - started
    return [
        CheckRow(key, slot.model, probe.name, probe.expected, got, seconds, slot.bytes, outcome)
        for probe, got, outcome in verdicts
    ]


async def run_probe(engine: Engine, probe: Probe) -> tuple[Probe, str, str]:
    """(probe, what the model answered or why it could not, "ok" / "failed" / "error")."""
    try:
        results = await engine.run(probe.task, [case.input for case in probe.cases], **probe.params)
    except EngineError as exc:
        return probe, str(exc), "error"
    verdicts = [judge(case, result) for case, result in zip(probe.cases, results, strict=True)]
    got = "; ".join(answer for _, answer in verdicts)
    return probe, got, "ok" if all(right for right, _ in verdicts) else "failed"


def judge(case: Case, result: object) -> tuple[bool, str]:
    """A case's verdict; a result of an unexpected shape is a wrong answer, not a crash."""
    try:
        return case.judge(result)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:60]


def smoke_probe(key: str) -> Probe:
    """For a task with no known answers: its smoke input must get a result."""
    return Probe(key, "runs", (Case(create_task(key).smoke_input(), "an answer", answered),))


def answered(result: object) -> tuple[bool, str]:
    """Any result will do: the smoke probe only proves the model runs."""
    return True, short(str(result))


def download_models(
    settings: Settings, report: Report | None = None
) -> Iterator[tuple[str, str, str]]:
    """Fetch every configured hub model into the Hugging Face cache, one at a time.

    Yields (task, model, outcome) as each is done; `report` gets the download's progress.
    """
    for key in TASK_KEYS:
        model_id = resolve_model(key, settings.model_for(key))
        if Path(model_id).expanduser().is_dir():
            yield key, model_id, "local folder"
            continue
        started = time.perf_counter()
        try:
            folder = download_model(key, model_id, report or _ignore)
        except EngineError as exc:
            reason = exc.reason if isinstance(exc, ModelUnavailable) else str(exc)
            yield key, model_id, f"error: {reason}"
            continue
        size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
        seconds = time.perf_counter() - started
        yield key, model_id, f"ok: {size / 2**20:.1f} MB in {seconds:.1f} s ({folder})"


def download_line(event: ModelFetch) -> str:
    """A download's progress bar for the terminal."""
    if not event.total_bytes:
        return f"{event.task}  {event.model_id}  asking the hub…"
    return (
        f"{event.task}  {event.model_id}  {progress_bar(event.fraction)} "
        f"{int(event.fraction * 100):3d} %  "
        f"{event.done_bytes / 2**20:.1f} of {event.total_bytes / 2**20:.1f} MB"
    )


def _ignore(event: ModelFetch) -> None:
    pass


async def engine_status(settings: Settings) -> EngineStatus:
    """The engine's status for the configured models, without loading any of them."""
    engine = Engine(settings)
    try:
        return engine.status()
    finally:
        await engine.close()
