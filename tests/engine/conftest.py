"""Engine-test fixtures: the session's tiny models, loaded once and shared by the task modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.harness import LoadedTasks


@pytest.fixture(scope="session")
def loaded_tasks(tiny_models: dict[str, Path], converted_dir: Path) -> LoadedTasks:
    """Each task key with its tiny model, loaded on first use and shared for the session."""
    return LoadedTasks(tiny_models)
