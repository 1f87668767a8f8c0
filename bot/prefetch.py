"""`prefetch`, `prefetch --check` and `status`: the models, outside a running bot.

`prefetch --check` loads each model and runs its known-answer probes (bot/engine/probes.py):
a model that loads but answers wrong is reported as failed, not ok.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.config import Settings
from bot.engine import Engine, EngineError, EngineStatus
from bot.engine.probes import Case, Probe, probes_for, short
from bot.engine.registry import TASK_KEYS, create_task
from bot.engine.registry import model_id as resolve_model


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


async def check_models(settings: Settings, keys: list[str] | None = None) -> list[CheckRow]:
    """Load each model and run its known-answer probes (prefetch --check)."""
    rows: list[CheckRow] = []
    engine = Engine(settings)
    try:
        for key in keys or list(TASK_KEYS):
            rows += await check_model(engine, key)
            engine.unload(key)
    finally:
        await engine.close()
    return rows


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


# Weights in both formats: the safetensors copy is enough (and safe to load).
DOWNLOAD_PATTERNS = [
    "*.json",
    "*.safetensors",
    "*.model",
    "*.txt",
    "*.spm",
    "*.codes",
    "*.bin",
    "vocab.*",
]


def download_models(settings: Settings) -> list[tuple[str, str, str]]:
    """Fetch every configured hub model into the Hugging Face cache, with progress bars."""
    from pathlib import Path

    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.utils import enable_progress_bars

    enable_progress_bars()  # logging turns them off for the bot itself
    results = []
    for key in TASK_KEYS:
        model_id = resolve_model(key, settings.model_for(key))
        if Path(model_id).expanduser().is_dir():
            results.append((key, model_id, "local folder"))
            continue
        print(f"{key}: {model_id}", flush=True)
        try:
            files = HfApi().list_repo_files(model_id)
            has_safetensors = any(name.endswith(".safetensors") for name in files)
            path = snapshot_download(
                model_id,
                allow_patterns=DOWNLOAD_PATTERNS,
                ignore_patterns=["*.bin"] if has_safetensors else None,
            )
            results.append((key, model_id, f"ok: {path}"))
        except Exception as exc:
            results.append((key, model_id, f"error: {type(exc).__name__}: {exc}"[:200]))
    return results


async def engine_status(settings: Settings) -> EngineStatus:
    """The engine's status for the configured models, without loading any of them."""
    engine = Engine(settings)
    try:
        return engine.status()
    finally:
        await engine.close()
