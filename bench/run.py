"""The benchmark's plan: per task, batching on and off alternating, the baselines and the sweep."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from bench.drive import DirectModel, Phase, percentile, run_chats
from bench.inputs import MIXES, Workload, make_workload
from bench.models import build_models
from bot.config import Settings
from bot.engine import Engine, last_timings
from bot.services import Services
from bot.store import SQLiteStore

log = logging.getLogger("bench")

DEFAULT_TASKS = ("zero_shot", "translate_es_en", "qa", "pos", "poem")
EXTRA_TASKS = ("summarize", "language", "sentiment")
NEW_TOKENS = {"translate_es_en": 20, "translate_en_es": 20, "poem": 20, "summarize": 24}
"""Fixed generation lengths (min = max new tokens), so every request costs the same."""
SWEEP = (1, 4, 16, 32, 64)
REPEATS = {"short": 3, "long": 1}
"""Runs of each phase: the short mix carries the targets and costs little, the long mix a lot."""
MIN_SWEEP_REQUESTS = 8
"""A sweep point sends at least this many requests, so a low concurrency still has a p95."""


@dataclass
class Options:
    """What to run; the defaults are the full benchmark."""

    out: Path = Path("bench/out")
    tasks: tuple[str, ...] = DEFAULT_TASKS
    concurrency: int = 32
    sweep: tuple[int, ...] = SWEEP
    sweep_task: str = "pos"
    quick: bool = False
    threads: int = 2
    rounds: int = 1
    lone_repeats: int = 9
    repeats: dict[str, int] = field(default_factory=lambda: dict(REPEATS))
    batch_max_size: int = 32
    batch_max_tokens: int = 8192
    runtimes: bool = False
    """Compare RUNTIME=torch with RUNTIME=auto (bench/runtimes.py) instead."""


@dataclass
class TaskResult:
    """Everything measured for one task."""

    task: str
    mixes: dict[str, dict[str, Any]] = field(default_factory=dict)
    lone: dict[str, Any] = field(default_factory=dict)
    sweep: list[dict[str, Any]] = field(default_factory=list)
    ayuda_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Plain data for the report (the raw /ayuda samples are summarised, not listed)."""
        return {
            "task": self.task,
            "mixes": self.mixes,
            "lone": self.lone,
            "sweep": self.sweep,
            "ayuda": ayuda_summary(self.ayuda_ms),
        }


def quick_options(out: Path, tasks: tuple[str, ...] | None = None) -> Options:
    """Tiny models and a handful of requests: proves the whole path in about a minute."""
    chosen = tasks or DEFAULT_TASKS
    return Options(
        out=out,
        tasks=chosen,
        concurrency=4,
        sweep=(1, 4),
        sweep_task=chosen[0],
        quick=True,
        lone_repeats=3,
        repeats={"short": 1, "long": 1},
    )


def _settings(options: Options, folders: dict[str, Path], batch_max_size: int) -> Settings:
    """Engine settings pointing at the benchmark's folders; batch size 1 turns batching off."""
    values: dict[str, Any] = {f"model_{key}": str(folder) for key, folder in folders.items()}
    values.update(
        data_dir=options.out / "data",
        device="cpu",
        dtype="float32",
        runtime="torch",  # batching measured on torch; bench/runtimes.py compares runtimes
        torch_threads=options.threads,
        batch_max_size=batch_max_size,
        batch_max_tokens=options.batch_max_tokens,
        queue_max=100_000,
    )
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def run_benchmark(options: Options) -> dict[str, Any]:
    """Run every selected task and return the report's data."""
    unknown = [t for t in options.tasks if t not in DEFAULT_TASKS + EXTRA_TASKS]
    if unknown:
        raise ValueError(f"unsupported tasks {unknown}; choose from {DEFAULT_TASKS + EXTRA_TASKS}")
    torch.set_num_threads(options.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    root = options.out / ("models-tiny" if options.quick else "models")
    folders = build_models(root, list(options.tasks), not options.quick, NEW_TOKENS)
    log.info("models ready in %.1f s", time.perf_counter() - started)
    engines = {
        "on": Engine(_settings(options, folders, options.batch_max_size)),
        "off": Engine(_settings(options, folders, 1)),
    }
    store = await SQLiteStore.open(options.out / "data" / "bench.sqlite3")
    services = Services(settings=engines["on"].settings, engine=engines["on"], store=store)
    results: list[TaskResult] = []
    try:
        for task in options.tasks:
            results.append(await _run_task(task, options, folders[task], engines, services))
    finally:
        for engine in engines.values():
            await engine.close()
        await store.close()
    return {
        "machine": machine_facts(options.threads, load_before),
        "options": {
            "quick": options.quick,
            "full_size_models": not options.quick,
            "tasks": list(options.tasks),
            "concurrency": options.concurrency,
            "rounds_per_chat": options.rounds,
            "repeats": options.repeats,
            "batch_max_size": options.batch_max_size,
            "batch_max_tokens": options.batch_max_tokens,
            "new_tokens": {t: NEW_TOKENS[t] for t in options.tasks if t in NEW_TOKENS},
            "mixes": {name: list(span) for name, span in MIXES.items()},
            "sweep": list(options.sweep),
            "sweep_task": options.sweep_task,
        },
        "tasks": [r.summary() for r in results],
        "ayuda": ayuda_summary([ms for r in results for ms in r.ayuda_ms]),
        "wall_s": round(time.perf_counter() - started, 1),
    }


async def _run_task(
    task: str,
    options: Options,
    folder: Path,
    engines: dict[str, Engine],
    services: Services,
) -> TaskResult:
    """Warm up, then each mix with on/off alternating, the lone request and maybe the sweep."""
    log.info("%s: loading", task)
    direct = DirectModel(task, folder, options.threads)
    result = TaskResult(task)
    try:
        tokenizer = direct.lm.tokenizer
        count = options.concurrency * options.rounds
        workloads = {
            mix: make_workload(task, mix, tokenizer, count, NEW_TOKENS.get(task)) for mix in MIXES
        }
        await _warm_up(engines, direct, workloads["short"])
        for index, (mix, workload) in enumerate(workloads.items()):
            result.mixes[mix] = await _measure_mix(
                index, workload, engines, direct, services, options, result.ayuda_ms
            )
        result.lone = await _lone(engines["on"], direct, workloads["short"], options.lone_repeats)
        if task == options.sweep_task:
            result.sweep = await _sweep(engines, tokenizer, task, options)
    finally:
        for engine in engines.values():
            engine.unload(task)
        direct.close()
    return result


async def _warm_up(engines: dict[str, Engine], direct: DirectModel, workload: Workload) -> None:
    """First calls allocate and pick kernels: keep them out of every measurement."""
    first = workload.inputs[:4]
    for engine in engines.values():
        await engine.run(workload.task, first[:1], **workload.params)
        await asyncio.gather(
            *(engine.run(workload.task, [item], **workload.params) for item in first)
        )
    features, params = direct.features(first[0], workload.params)
    await direct.forward_s(features, params)


async def _measure_mix(
    index: int,
    workload: Workload,
    engines: dict[str, Engine],
    direct: DirectModel,
    services: Services,
    options: Options,
    ayuda_ms: list[float],
) -> dict[str, Any]:
    """On, off and the direct batched call, repeated and alternated; the median run counts."""
    captured = [direct.features(item, workload.params) for item in workload.inputs]
    per_request = [features for features, _ in captured]
    phases: dict[str, list[Phase]] = {"on": [], "off": []}
    direct_s: list[float] = []
    for repeat in range(options.repeats[workload.mix]):
        for mode in ("on", "off") if (index + repeat) % 2 == 0 else ("off", "on"):
            log.info("%s %s #%d: batching %s", workload.task, workload.mix, repeat + 1, mode)
            phase = await run_chats(engines[mode], workload, options.concurrency, mode, services)
            phases[mode].append(phase)
            ayuda_ms += phase.ayuda_ms
        seconds, batches = await direct.batched_s(
            per_request, captured[0][1], options.batch_max_size, options.batch_max_tokens
        )
        direct_s.append(seconds)
    # Other work on a shared machine slows single runs at random: the median run is reported.
    on, off = (_median_run(phases[mode]) for mode in ("on", "off"))
    direct_rps = len(workload.inputs) / statistics.median(direct_s)
    lengths = [f.length for features in per_request for f in features]
    return {
        "tokens": _spread(workload.tokens),
        "model_input_tokens": _spread(lengths),
        "features_per_request": round(len(lengths) / len(per_request), 2),
        "repeats": len(direct_s),
        "on": {**on.summary(), "throughput_runs": _throughputs(phases["on"])},
        "off": {**off.summary(), "throughput_runs": _throughputs(phases["off"])},
        "direct": {
            "throughput_rps": round(direct_rps, 3),
            "batches": batches,
            "throughput_runs": [round(len(workload.inputs) / s, 3) for s in direct_s],
        },
        "on_off_throughput": round(on.throughput / off.throughput, 2),
        "engine_vs_direct": round(on.throughput / direct_rps, 3),
    }


def _throughputs(runs: list[Phase]) -> list[float]:
    """Every run's throughput, so the spread behind a median stays visible."""
    return [round(p.throughput, 3) for p in runs]


def _median_run(runs: list[Phase]) -> Phase:
    """The run of median throughput (the slower middle one for an even count)."""
    return sorted(runs, key=lambda p: p.throughput)[(len(runs) - 1) // 2]


def _spread(values: list[int]) -> dict[str, float]:
    """Min, mean and max: enough to see which lengths a mix really held."""
    return {"min": min(values), "mean": round(statistics.mean(values), 1), "max": max(values)}


async def _lone(
    engine: Engine, direct: DirectModel, workload: Workload, repeats: int
) -> dict[str, Any]:
    """One request at a time through the idle engine against the direct forward, interleaved."""
    engine_ms: list[float] = []
    forward_ms: list[float] = []
    direct_ms: list[float] = []
    for index in range(repeats):
        item = workload.inputs[index % len(workload.inputs)]
        features, params = direct.features(item, workload.params)
        direct_ms.append(await direct.forward_s(features, params) * 1000)
        started = time.perf_counter()
        await engine.run(workload.task, [item], **workload.params)
        engine_ms.append((time.perf_counter() - started) * 1000)
        timings = last_timings()
        forward_ms.append(timings.inference_s * 1000 if timings else math.nan)
    # Each pair ran back to back: the median of their ratios shrugs off a busy moment.
    ratios = [e / d for e, d in zip(engine_ms, direct_ms, strict=True)]
    return {
        "engine_ms": round(statistics.median(engine_ms), 2),
        "engine_forward_ms": round(statistics.median(forward_ms), 2),
        "direct_ms": round(statistics.median(direct_ms), 2),
        "overhead": round(statistics.median(ratios) - 1, 4),
        "repeats": repeats,
    }


async def _sweep(
    engines: dict[str, Engine], tokenizer: Any, task: str, options: Options
) -> list[dict[str, Any]]:
    """Latency against concurrency, short mix, batching on and off."""
    points = []
    for index, concurrency in enumerate(options.sweep):
        rounds = max(1, math.ceil(MIN_SWEEP_REQUESTS / concurrency))
        workload = make_workload(
            task, "short", tokenizer, concurrency * rounds, NEW_TOKENS.get(task), seed=index
        )
        for mode in ("on", "off") if index % 2 == 0 else ("off", "on"):
            log.info("%s sweep: batching %s, %d chats", task, mode, concurrency)
            phase = await run_chats(engines[mode], workload, concurrency, mode)
            summary = phase.summary()
            summary.pop("ayuda_p99_ms")
            points.append(summary)
    return points


def ayuda_summary(samples: list[float]) -> dict[str, Any]:
    """/ayuda latencies while the engine was saturated."""
    return {
        "samples": len(samples),
        "p50_ms": round(percentile(samples, 0.5), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "max_ms": round(max(samples), 2) if samples else math.nan,
    }


def machine_facts(threads: int, load_before: tuple[float, ...]) -> dict[str, Any]:
    """What a report must say about the machine, since runs on shared machines vary."""
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": threads,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
