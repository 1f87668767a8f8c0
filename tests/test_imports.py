"""The bot, the console and the CLI start without loading torch or python-telegram-bot."""

from __future__ import annotations

import subprocess
import sys

LIGHT_MODULES = "bot.config, handlers, bot.engine.errors, bot.engine.results, bot.console"


def heavy_modules_after_importing(modules: str) -> list[str]:
    code = (
        f"import sys, {modules}; "
        "print(','.join(m for m in ('torch', 'transformers', 'telegram') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_settings_handlers_errors_results_and_console_load_neither_torch_nor_telegram() -> None:
    assert heavy_modules_after_importing(LIGHT_MODULES) == []


def test_the_engine_facade_and_its_task_table_load_torch_only_when_an_engine_starts() -> None:
    modules = "bot.engine, bot.engine.registry, bot.engine.status, bot.engine.backend, bot.prefetch"
    assert heavy_modules_after_importing(modules) == []
