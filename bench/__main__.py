"""`python -m bench`: the engine benchmark, batching on against off (see bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bench.report import to_markdown, write_outputs
from bench.run import DEFAULT_TASKS, EXTRA_TASKS, SWEEP, Options, quick_options, run_benchmark
from bench.runtimes import RUNTIME_TASKS


def _parse(argv: list[str] | None) -> Options:
    """Command-line flags to Options; --quick swaps in tiny models and small counts."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny models, ~1 minute smoke run")
    parser.add_argument("--tasks", help=f"comma list (default {','.join(DEFAULT_TASKS)}; "
                        f"also {','.join(EXTRA_TASKS)})")  # fmt: skip
    parser.add_argument("--concurrency", type=int, help="simulated chats (default 32)")
    parser.add_argument("--sweep", help=f"concurrency points of the plot (default {SWEEP})")
    parser.add_argument("--sweep-task", help="task swept for the plot (default pos)")
    parser.add_argument("--rounds", type=int, help="requests each chat sends (default 1)")
    parser.add_argument("--repeats", type=int, help="runs of each short-mix phase (default 3)")
    parser.add_argument("--out", type=Path, default=Path("bench/out"), help="output folder")
    parser.add_argument("--runtimes", action="store_true",
                        help="RUNTIME=torch against auto for every task")  # fmt: skip
    args = parser.parse_args(argv)
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip()) if args.tasks else None
    if args.runtimes and not tasks:
        tasks = RUNTIME_TASKS
    options = quick_options(args.out, tasks) if args.quick else Options(out=args.out)
    options.runtimes = args.runtimes
    if tasks and not args.quick:
        options.tasks = tasks
    if args.concurrency:
        options.concurrency = args.concurrency
    if args.sweep:
        options.sweep = tuple(int(x) for x in args.sweep.split(","))
    if args.rounds:
        options.rounds = args.rounds
    if args.repeats:
        options.repeats["short"] = args.repeats
    if args.sweep_task:
        options.sweep_task = args.sweep_task
    if options.sweep_task not in options.tasks:
        options.sweep_task = options.tasks[0]
    return options


def main(argv: list[str] | None = None) -> dict[str, Path]:
    """Run, print the table, write report.md/json and latency.png; returns their paths."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("bot", "handlers", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = _parse(argv)
    if options.runtimes:
        return compare(options)
    report = asyncio.run(run_benchmark(options))
    paths = write_outputs(report, options.out)
    print(to_markdown(report))
    print("\n".join(f"{kind}: {path}" for kind, path in paths.items()), file=sys.stderr)
    return paths


def compare(options: Options) -> dict[str, Path]:
    """The runtime comparison: runtimes.md and runtimes.json under --out."""
    import json

    from bench.runtimes import compare_runtimes, runtimes_markdown

    report = asyncio.run(compare_runtimes(options))
    options.out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": options.out / "runtimes.md", "json": options.out / "runtimes.json"}
    paths["markdown"].write_text(runtimes_markdown(report), encoding="utf-8")
    paths["json"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(runtimes_markdown(report))
    return paths


if __name__ == "__main__":
    main()
