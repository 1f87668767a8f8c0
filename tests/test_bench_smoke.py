"""The benchmark's quick path runs end to end on tiny models and writes all three outputs."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_quick_benchmark_writes_markdown_json_and_plot(tmp_path: Path) -> None:
    """A smoke run proves the harness, not the numbers: every figure the issue asks for is there."""
    paths = main(["--quick", "--tasks", "pos,translate_es_en", "--out", str(tmp_path)])

    assert paths["plot"].read_bytes().startswith(b"\x89PNG")
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| pos | short |" in markdown and "/ayuda" in markdown
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [task["task"] for task in report["tasks"]] == ["pos", "translate_es_en"]
    for task in report["tasks"]:
        assert set(task["mixes"]) == {"short", "long"}
        for mix in task["mixes"].values():
            for mode in ("on", "off"):
                figures = mix[mode]
                for name in ("throughput_rps", "p50_ms", "p95_ms", "mean_batch_size", "peak_mb"):
                    assert isinstance(figures[name], int | float), (mode, name)
            assert mix["on_off_throughput"] > 0
            assert mix["direct"]["throughput_rps"] > 0
            assert mix["engine_vs_direct"] > 0
        assert task["lone"]["engine_ms"] > 0 and task["lone"]["direct_ms"] > 0
    sweep = report["tasks"][0]["sweep"]
    assert {(p["concurrency"], p["mode"]) for p in sweep} == {
        (1, "on"), (1, "off"), (4, "on"), (4, "off"),
    }  # fmt: skip
    assert report["ayuda"]["samples"] > 0 and report["ayuda"]["p99_ms"] is not None
    assert report["targets"]
    assert all({"target", "measured", "met"} <= set(check) for check in report["targets"])


def test_quick_runtime_comparison_reports_both_runtimes(tmp_path: Path) -> None:
    paths = main(["--quick", "--runtimes", "--tasks", "pos,poem", "--out", str(tmp_path)])
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| pos | onnxruntime int8 |" in markdown and "| poem | ctranslate2 int8 |" in markdown
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    for task in report["tasks"]:
        assert task["torch"]["runtime"] == "torch" and task["auto"]["runtime"] == task["runtime"]
        for side in ("torch", "auto"):
            for name in ("throughput_rps", "p95_ms", "lone_ms", "model_mb", "peak_mb"):
                assert isinstance(task[side][name], int | float), (side, name)
        assert task["throughput_ratio"] > 0 and task["lone_ratio"] > 0
