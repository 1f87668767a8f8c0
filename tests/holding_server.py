"""The model server with a test hook: a request can be held inside its replica.

An input "HOLD <path>" makes the replica create <path> and wait there until it is killed; once
<path> exists the same input runs normally (that is the retry, on the replica that replaced it).
"STALL <path>" waits on every replica, each time (its caller gives up: the "busy" case).
Either way a test knows a request is in flight on a replica before it kills that replica.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from bot.engine.remote import RemoteAnswer
from bot.serve_models import ModelServer

HOLD_PREFIX = "HOLD "
STALL_PREFIX = "STALL "


class HoldingModelServer(ModelServer):
    async def run(self, task: str, inputs: list[Any], params: dict[str, Any]) -> RemoteAnswer:
        first = inputs[0] if inputs and isinstance(inputs[0], str) else ""
        if first.startswith(STALL_PREFIX):
            await asyncio.to_thread(arrive, first.removeprefix(STALL_PREFIX))
            await asyncio.sleep(3600)
        if first.startswith(HOLD_PREFIX) and await asyncio.to_thread(
            arrive, first.removeprefix(HOLD_PREFIX)
        ):
            await asyncio.sleep(3600)
        return await super().run(task, inputs, params)


def arrive(marker: str) -> bool:
    """Create the marker file; False when it was there already (a request's second try)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def register_by_value() -> None:
    """Ship this module's code to the replicas, whose import path may not hold the tests."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
