"""A small local Ray cluster on loopback, started by the test process and always shut down.

No dashboard, two CPUs, an 80 MB object store, a fresh temporary folder, no token (nothing
written to ~/.ray) and no usage reporting. Tests skip, saying why, without Ray.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from bot.engine.status import EngineStatus

if TYPE_CHECKING:
    from bot.engine.remote import RemoteEngine

NO_RAY = "Ray is not installed: pip install -e '.[scale]' (make test installs it)"

OBJECT_STORE_BYTES = 80 * 2**20


RAY_TEST_ENVIRONMENT = {
    # Ray's own switch for binding 127.0.0.1 only (no second node can join: fine here).
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    # Ray runs its workers at nice 15; under a loaded test run they would starve.
    "RAY_worker_niceness": "0",
    # Loopback only; a token would write ~/.ray/auth_token.
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}
"""Set by tests/conftest.py before anything imports Ray, which reads them once at import."""


@contextlib.contextmanager
def running_ray() -> Iterator[str]:
    """Start a local cluster in this process; yields its address (RAY_ADDRESS for subprocesses)."""
    ray = pytest.importorskip("ray", reason=NO_RAY)
    # Ray's socket paths must stay under 107 characters: a short folder of its own.
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    try:
        ray.init(
            address="local",
            num_cpus=2,
            num_gpus=0,
            include_dashboard=False,
            object_store_memory=OBJECT_STORE_BYTES,
            _temp_dir=temp_dir,
            _node_ip_address="127.0.0.1",
            configure_logging=False,
        )
        try:
            yield str(ray.get_runtime_context().gcs_address)
        finally:
            from ray import serve

            with contextlib.suppress(Exception):
                serve.shutdown()
            ray.shutdown()
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


async def status_when(
    engine: RemoteEngine, ready: Callable[[EngineStatus], bool], within_s: float = 60.0
) -> EngineStatus:
    """The model server's status once `ready` holds (replicas report every 2 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not ready(status := await engine.refresh_status()):
        assert loop.time() < deadline, f"timed out; the replicas: {status.replicas}"
        await asyncio.sleep(0.5)
    return status
