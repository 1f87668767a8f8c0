"""The benchmark's outputs: one Markdown table (also printed), the JSON data and a latency plot."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

THROUGHPUT_TARGETS = {"pos": 2.5, "zero_shot": 2.5, "translate_es_en": 4.0}
"""Short mix, batching on over off, at the default 32 chats."""
ENGINE_VS_DIRECT = 0.90
AYUDA_P99_MS = 50.0
LONE_OVERHEAD = 0.05


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured figure and whether it is met."""
    checks: list[dict[str, Any]] = []
    chats = report["options"]["concurrency"]
    for task in report["tasks"]:
        name = task["task"]
        short = task["mixes"]["short"]
        if name in THROUGHPUT_TARGETS:
            goal = THROUGHPUT_TARGETS[name]
            ratio = short["on_off_throughput"]
            checks.append(_check(f"{name} short, {chats} chats: throughput on/off ≥ {goal}x",
                                 f"{ratio:.2f}x", ratio >= goal))  # fmt: skip
        p95_on, p95_off = short["on"]["p95_ms"], short["off"]["p95_ms"]
        checks.append(_check(f"{name} short, {chats} chats: p95 on ≤ off",
                             f"{p95_on:.0f} vs {p95_off:.0f} ms", p95_on <= p95_off))  # fmt: skip
        for mix, figures in task["mixes"].items():
            share = figures["engine_vs_direct"]
            checks.append(_check(f"{name} {mix}: engine ≥ {ENGINE_VS_DIRECT:.0%} of direct batched",
                                 f"{share:.0%}", share >= ENGINE_VS_DIRECT))  # fmt: skip
        overhead = task["lone"]["overhead"]
        checks.append(_check(f"{name}: lone request within {LONE_OVERHEAD:.0%} of direct call",
                             f"{overhead:+.1%}", overhead <= LONE_OVERHEAD))  # fmt: skip
    p99 = report["ayuda"]["p99_ms"]
    checks.append(_check(f"/ayuda p99 < {AYUDA_P99_MS:.0f} ms while saturated", f"{p99:.1f} ms",
                         p99 < AYUDA_P99_MS))  # fmt: skip
    return checks


def _check(target: str, measured: str, met: bool) -> dict[str, Any]:
    """One row of the targets table, as plain data for the JSON too."""
    return {"target": target, "measured": measured, "met": bool(met)}


def to_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown: the main table, /ayuda, lone requests, sweep, targets."""
    options, machine = report["options"], report["machine"]
    lines = [
        f"# Engine benchmark ({'quick, tiny models' if options['quick'] else 'full-size models'})",
        "",
        f"{machine['cpus']} CPUs, {machine['torch_threads']} torch threads, torch "
        f"{machine['torch']}; load average {machine['load_average_before'][0]} before, "
        f"{machine['load_average_after'][0]} after; {options['concurrency']} chats x "
        f"{options['rounds_per_chat']} request(s), median of {options['repeats']} runs; "
        f"batch ≤ {options['batch_max_size']} rows; "
        f"generation lengths {options['new_tokens']}; run took {report['wall_s']} s.",
        "",
        "| task | mix | tokens mean (min-max) | req/s on | req/s off | on/off | p50 ms on / off "
        "| p95 ms on / off | mean batch on | peak MB on / off | direct req/s | engine/direct |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for task in report["tasks"]:
        for mix, m in task["mixes"].items():
            on, off, tokens = m["on"], m["off"], m["tokens"]
            lines.append(
                f"| {task['task']} | {mix} | {tokens['mean']:.0f} ({tokens['min']}-{tokens['max']})"
                f" | {on['throughput_rps']:.2f} | {off['throughput_rps']:.2f}"
                f" | {m['on_off_throughput']:.2f}x | {on['p50_ms']:.0f} / {off['p50_ms']:.0f}"
                f" | {on['p95_ms']:.0f} / {off['p95_ms']:.0f} | {on['mean_batch_size']:.1f}"
                f" | {on['peak_mb']:.0f} / {off['peak_mb']:.0f}"
                f" | {m['direct']['throughput_rps']:.2f} | {m['engine_vs_direct']:.0%} |"
            )
    ayuda = report["ayuda"]
    lines += [
        "",
        f"/ayuda through the handlers while the engine is saturated: p50 {ayuda['p50_ms']} ms, "
        f"p99 {ayuda['p99_ms']} ms, max {ayuda['max_ms']} ms over {ayuda['samples']} requests.",
        "",
        "| lone request | engine ms | direct forward ms | overhead |",
        "|---|--:|--:|--:|",
    ]
    for task in report["tasks"]:
        lone = task["lone"]
        lines.append(f"| {task['task']} | {lone['engine_ms']:.1f} | {lone['direct_ms']:.1f}"
                     f" | {lone['overhead']:+.1%} |")  # fmt: skip
    for task in report["tasks"]:
        if task["sweep"]:
            lines += ["", f"Latency against concurrency ({task['task']}, short mix):", "",
                      "| chats | mode | req/s | p50 ms | p95 ms | mean batch |",
                      "|--:|---|--:|--:|--:|--:|"]  # fmt: skip
            for p in sorted(task["sweep"], key=lambda p: (p["concurrency"], p["mode"] != "on")):
                lines.append(f"| {p['concurrency']} | {p['mode']} | {p['throughput_rps']:.2f}"
                             f" | {p['p50_ms']:.0f} | {p['p95_ms']:.0f}"
                             f" | {p['mean_batch_size']:.1f} |")  # fmt: skip
    lines += ["", "| target | measured | met |", "|---|--:|---|"]
    for check in report["targets"]:
        met = "yes" if check["met"] else "NO"
        lines.append(f"| {check['target']} | {check['measured']} | {met} |")
    lines += [
        "",
        "Tokens are the user text's ids with the benchmark's stand-in tokenizers; `mean batch` "
        "counts model rows (zero-shot has one row per label); `peak MB` is resident memory "
        "growth during the phase; `direct` is the task's own forward over the same features, "
        "sorted by length, in batches of the same size, with no engine; `overhead` is the "
        "median of back-to-back engine/direct ratios.",
    ]
    return "\n".join(lines) + "\n"


def write_plot(report: dict[str, Any], path: Path) -> None:
    """Latency (p50 and p95) against concurrency, batching on and off, one panel per swept task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    swept = [task for task in report["tasks"] if task["sweep"]]
    width = max(1, len(swept))
    fig, axes = plt.subplots(1, width, figsize=(6 * width, 4.5), squeeze=False)
    panels = list(axes[0])
    for axis, task in zip(panels, swept, strict=False):
        for mode, colour in (("on", "tab:blue"), ("off", "tab:red")):
            points = sorted((p for p in task["sweep"] if p["mode"] == mode),
                            key=lambda p: p["concurrency"])  # fmt: skip
            chats = [p["concurrency"] for p in points]
            axis.plot(chats, [p["p50_ms"] for p in points], "o-", color=colour,
                      label=f"batching {mode}, p50")  # fmt: skip
            axis.plot(chats, [p["p95_ms"] for p in points], "s--", color=colour,
                      label=f"batching {mode}, p95")  # fmt: skip
        axis.set_xscale("log", base=2)
        ticks = sorted({p["concurrency"] for p in task["sweep"]})
        axis.set_xticks(ticks, [str(t) for t in ticks])
        axis.set_yscale("log")
        axis.set_xlabel("concurrent chats")
        axis.set_ylabel("latency (ms)")
        axis.set_title(f"{task['task']}, short mix")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    if not swept:
        panels[0].text(0.5, 0.5, "no sweep in this run", ha="center", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(report: dict[str, Any], out: Path) -> dict[str, Path]:
    """report.md, report.json and latency.png under `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    report["targets"] = check_targets(report)
    paths = {
        "markdown": out / "report.md",
        "json": out / "report.json",
        "plot": out / "latency.png",
    }
    paths["markdown"].write_text(to_markdown(report), encoding="utf-8")
    paths["json"].write_text(json.dumps(_finite(report), indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")  # fmt: skip
    write_plot(report, paths["plot"])
    return paths


def _finite(value: Any) -> Any:
    """NaN is not JSON: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
