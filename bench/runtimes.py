"""`python -m bench --runtimes`: RUNTIME=torch against RUNTIME=auto, task by task.

Two engines with batching on, one per runtime, take turns sending the short mix from K chats
(the order flips each repeat; the median run counts), then lone requests alternate between
them. Converted copies are built before anything is timed (as `prefetch` does) and cached under
``--out``. Per task: throughput and p95 at K chats, a lone request's latency, the model's
measured size, the resident memory its load added and the peak growth while serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from bench.drive import Phase, _status_mb, run_chats
from bench.inputs import make_workload
from bench.models import build_models
from bench.run import NEW_TOKENS, Options, _median_run, _settings, machine_facts
from bot.engine import Engine
from bot.engine.registry import create_task
from bot.engine.runtimes import TORCH, plan_from_settings, prepare

log = logging.getLogger("bench")

RUNTIME_TASKS = (
    "translate_es_en",
    "translate_en_es",
    "summarize",
    "poem",
    "zero_shot",
    "pos",
    "qa",
    "sentiment",
    "language",
    "fill_mask",
)
RUNTIMES = ("torch", "auto")


async def compare_runtimes(options: Options) -> dict[str, Any]:
    """Every selected task under both runtimes; the report's data."""
    torch.set_num_threads(options.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    root = options.out / ("models-tiny" if options.quick else "models")
    folders = build_models(root, list(options.tasks), not options.quick, NEW_TOKENS)
    base = _settings(options, folders, options.batch_max_size)
    converted = options.out / ("converted-tiny" if options.quick else "converted")
    engines = {
        name: Engine(
            base.model_copy(update={"runtime": name, "dtype": "auto", "converted_dir": converted})
        )
        for name in RUNTIMES
    }
    rows = []
    try:
        for task in options.tasks:
            rows.append(await _compare_task(task, options, folders[task], engines))
    finally:
        for engine in engines.values():
            await engine.close()
    return {
        "machine": machine_facts(options.threads, load_before),
        "options": {
            "quick": options.quick,
            "concurrency": options.concurrency,
            "repeats": options.repeats["short"],
            "lone_repeats": options.lone_repeats,
            "new_tokens": {t: NEW_TOKENS[t] for t in options.tasks if t in NEW_TOKENS},
        },
        "tasks": rows,
        "wall_s": round(time.perf_counter() - started, 1),
    }


async def _compare_task(
    task: str, options: Options, folder: Path, engines: dict[str, Engine]
) -> dict[str, Any]:
    """Load (converting first), warm up, alternate the chats, then alternate lone requests."""
    spec = create_task(task)
    workload = make_workload(
        task,
        "short",
        spec.load_tokenizer(str(folder)),
        options.concurrency * options.rounds,
        NEW_TOKENS.get(task),
    )
    auto = engines["auto"]
    plan = plan_from_settings(auto.settings, task, spec, auto.device)
    if plan.name != TORCH:
        began = time.perf_counter()
        await asyncio.to_thread(prepare, plan, spec, str(folder))
        log.info("%s: %s copy ready in %.1f s", task, plan.label, time.perf_counter() - began)
    result: dict[str, Any] = {"task": task, "runtime": plan.label}
    per_runtime: dict[str, dict[str, Any]] = {}
    for name, engine in engines.items():
        rss = _status_mb("VmRSS")
        await engine.run(task, workload.inputs[:1], **workload.params)
        status = engine.status().models[task]
        first = workload.inputs[:4]
        await asyncio.gather(*(engine.run(task, [item], **workload.params) for item in first))
        per_runtime[name] = {
            "runtime": status.runtime,
            "model_mb": round(status.bytes / 2**20, 1),
            "load_rss_mb": round(_status_mb("VmRSS") - rss, 1),
            "load_s": status.load_seconds,
        }
    phases: dict[str, list[Phase]] = {name: [] for name in RUNTIMES}
    for repeat in range(options.repeats["short"]):
        for name in RUNTIMES if repeat % 2 == 0 else tuple(reversed(RUNTIMES)):
            log.info("%s: %d chats on %s, run %d", task, options.concurrency, name, repeat + 1)
            phases[name].append(await run_chats(engines[name], workload, options.concurrency, name))
    lone: dict[str, list[float]] = {name: [] for name in RUNTIMES}
    for index in range(options.lone_repeats):
        item = workload.inputs[index % len(workload.inputs)]
        for name in RUNTIMES if index % 2 == 0 else tuple(reversed(RUNTIMES)):
            began = time.perf_counter()
            await engines[name].run(task, [item], **workload.params)
            lone[name].append((time.perf_counter() - began) * 1000)
    for name in RUNTIMES:
        run = _median_run(phases[name])
        per_runtime[name].update(
            run.summary(),
            throughput_runs=[round(p.throughput, 3) for p in phases[name]],
            lone_ms=round(statistics.median(lone[name]), 1),
        )
        engines[name].unload(task)
    torch_row, auto_row = per_runtime["torch"], per_runtime["auto"]
    result.update(
        torch=torch_row,
        auto=auto_row,
        throughput_ratio=round(auto_row["throughput_rps"] / torch_row["throughput_rps"], 2),
        lone_ratio=round(torch_row["lone_ms"] / auto_row["lone_ms"], 2),
    )
    result["tokens"] = {
        "min": min(workload.tokens),
        "mean": round(statistics.mean(workload.tokens), 1),
        "max": max(workload.tokens),
    }
    return result


def runtimes_markdown(report: dict[str, Any]) -> str:
    """The comparison as the README's table, with how it was measured."""
    machine, options = report["machine"], report["options"]
    lines = [
        f"# torch against RUNTIME=auto ({'tiny' if options['quick'] else 'full-size'} models)",
        "",
        f"{machine['cpus']} CPUs, {machine['torch_threads']} threads, torch {machine['torch']}; "
        f"load average {machine['load_average_before'][0]} before, "
        f"{machine['load_average_after'][0]} after; {options['concurrency']} chats, short mix, "
        f"median of {options['repeats']} "
        f"runs; lone: median of {options['lone_repeats']}; generation lengths "
        f"{options['new_tokens']}; run took {report['wall_s']} s.",
        "",
        "| task | auto runs | req/s torch / auto | auto/torch | p95 ms torch / auto "
        "| lone ms torch / auto | lone speed-up | model MB torch / auto "
        "| load RSS MB torch / auto | peak MB torch / auto |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in report["tasks"]:
        t, a = row["torch"], row["auto"]
        lines.append(
            f"| {row['task']} | {row['runtime']} | {t['throughput_rps']:.2f} / "
            f"{a['throughput_rps']:.2f} | {row['throughput_ratio']:.2f}x | {t['p95_ms']:.0f} / "
            f"{a['p95_ms']:.0f} | {t['lone_ms']:.0f} / {a['lone_ms']:.0f} | "
            f"{row['lone_ratio']:.2f}x | {t['model_mb']:.0f} / {a['model_mb']:.0f} | "
            f"{t['load_rss_mb']:.0f} / {a['load_rss_mb']:.0f} | {t['peak_mb']:.0f} / "
            f"{a['peak_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"
