"""The model server on a local Ray cluster: a replica dies under requests and comes back; the CLI.

A request in flight on a replica that dies is sent once more; it is answered by the replica
Serve starts in its place, or, past ENGINE_TIMEOUT_SECONDS, gets the "busy" reply.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import texts
from bot.config import Settings
from bot.engine import Engine
from bot.engine.errors import ModelServerUnavailable
from bot.engine.status import EngineStatus, ReplicaStatus
from handlers import reply_for_engine_error
from tests.ray_cluster import NO_RAY, status_when

pytest.importorskip("ray", reason=NO_RAY)

from bot.engine.remote import SILENT_AFTER_S, RemoteEngine
from bot.serve_models import replica_plan
from tests.holding_server import HOLD_PREFIX, STALL_PREFIX

REPO = Path(__file__).resolve().parents[1]


async def eventually(check: Callable[[], object], within_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_replica_killed_mid_request_is_retried_then_busy_or_answered_by_its_successor(
    model_server: Settings, tmp_path: Path
) -> None:
    patient = RemoteEngine(model_server)
    hasty = RemoteEngine(model_server.model_copy(update={"engine_timeout_seconds": 8.0}))
    local = Engine(model_server.model_copy(update={"engine_backend": "local"}))
    try:
        before = await status_when(patient, lambda s: bool(live_replicas(s)))
        [dying] = live_replicas(before)
        held, stalled = tmp_path / "held", tmp_path / "stalled"
        # Answered by the successor; held on every replica until the caller gives up.
        answered = asyncio.create_task(patient.run("sentiment", [f"{HOLD_PREFIX}{held}"]))
        refused = asyncio.create_task(hasty.run("sentiment", [f"{STALL_PREFIX}{stalled}"]))
        await eventually(lambda: held.exists() and stalled.exists())

        os.kill(dying.pid, signal.SIGKILL)

        assert await answered == await local.run("sentiment", [f"{HOLD_PREFIX}{held}"])
        assert patient.retries == 1
        with pytest.raises(ModelServerUnavailable) as busy:
            await refused
        assert hasty.retries == 1
        assert reply_for_engine_error(busy.value).parts == [texts.ERROR_BUSY]

        after = await status_when(
            patient, lambda s: any(r.pid != dying.pid for r in live_replicas(s))
        )
        successor = next(r for r in live_replicas(after) if r.pid != dying.pid)
        assert successor.replica != dying.replica
        assert await patient.run("language", ["Hola"]) == await local.run("language", ["Hola"])
    finally:
        await patient.close()
        await hasty.close()
        await local.close()


def live_replicas(status: EngineStatus) -> list[ReplicaStatus]:
    return [r for r in status.replicas or () if r.seconds_since_report <= SILENT_AFTER_S]


@pytest.mark.parametrize(
    ("device", "replicas", "gpus", "plan"),
    [
        ("auto", 0, 0, (1, {"num_cpus": 1}, "cpu")),
        ("auto", 0, 4, (4, {"num_cpus": 1, "num_gpus": 1}, "cuda")),
        ("cuda:1", 0, 2, (2, {"num_cpus": 1, "num_gpus": 1}, "cuda")),
        ("cpu", 0, 2, (1, {"num_cpus": 1}, "cpu")),
        ("auto", 3, 0, (3, {"num_cpus": 1}, "cpu")),
    ],
)
def test_one_replica_per_gpu_or_one_cpu_replica(
    device: str, replicas: int, gpus: int, plan: tuple[int, dict[str, int], str]
) -> None:
    settings = Settings(_env_file=None, device=device, serve_replicas=replicas)  # type: ignore[call-arg]
    assert replica_plan(settings, gpus) == plan


def run_cli(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ...` with none of our settings inherited but those given."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(PYTHONPATH=str(REPO), **settings)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_status_command_lists_the_model_servers_replicas(
    model_server: Settings, ray_cluster: str, tmp_path: Path
) -> None:
    done = run_cli("status", cwd=tmp_path, ENGINE_BACKEND="ray", RAY_ADDRESS=ray_cluster)
    assert done.returncode == 0, done.stderr
    # One replica, and perhaps the one an earlier test killed, listed as silent.
    assert "Servidor de modelos (Ray Serve): 1 réplica(s)" in done.stdout
    assert "▸ réplica " in done.stdout


def test_serve_models_without_a_cluster_says_where_it_looked(tmp_path: Path) -> None:
    done = run_cli("serve-models", cwd=tmp_path, RAY_ADDRESS="127.0.0.1:9")
    assert done.returncode == 2
    assert "no Ray cluster at RAY_ADDRESS=127.0.0.1:9" in done.stderr
