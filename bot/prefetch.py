"""`prefetch`, `prefetch --check` and `status`: the models, outside a running bot."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.config import Settings
from bot.engine import Engine, EngineError, EngineStatus
from bot.engine.registry import TASK_KEYS, create_task
from bot.engine.registry import model_id as resolve_model


@dataclass
class CheckRow:
    task: str
    model: str
    load_seconds: float
    bytes: int
    outcome: str


async def check_models(settings: Settings, keys: list[str] | None = None) -> list[CheckRow]:
    """Load each model and run a one-line smoke inference (prefetch --check)."""
    rows = []
    engine = Engine(settings)
    try:
        for key in keys or list(TASK_KEYS):
            started = time.perf_counter()
            try:
                await engine.run(key, [create_task(key).smoke_input()])
                outcome = "ok"
            except EngineError as exc:
                outcome = f"error: {exc}"
            slot = engine.status().models[key]
            rows.append(
                CheckRow(
                    key,
                    slot.model,
                    slot.load_seconds or time.perf_counter() - started,
                    slot.bytes,
                    outcome,
                )
            )
            engine.unload(key)
    finally:
        await engine.close()
    return rows


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
