"""The device worker: the one thread that runs torch on a device, so the event loop never does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import torch

T = TypeVar("T")


class DeviceWorker:
    """Serialises model calls on one device; the lock lets queues gather while it is busy."""

    def __init__(self, device: torch.device, threads: int = 0) -> None:
        self.device = device
        self.lock = asyncio.Lock()
        self._threads = threads
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"torch-{device}")
        self._executor.submit(self._init_thread).result()

    def _init_thread(self) -> None:
        if self._threads:
            torch.set_num_threads(self._threads)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn on the device thread under inference mode (caller holds `lock` to batch)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _inference, fn, args)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


def _inference(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    with torch.inference_mode():
        return fn(*args)
