"""Fetching a model from the Hugging Face hub before its first load.

A model that is neither a local folder nor complete in the hub cache is downloaded here, file by
file, before the libraries see it: its size comes first from the hub's metadata, progress is
reported as the bytes arrive, and a hub that cannot be reached is found out with one short
request instead of the libraries' retries, and named (HubUnreachable). Loading then reads the
cache's folder, so a model on disk never waits for the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tqdm.std import tqdm

from bot.engine.errors import HubUnreachable, ModelUnavailable
from bot.progress import ModelFetch

log = logging.getLogger(__name__)
T = TypeVar("T")

# One metadata request tells whether the hub answers; past this it counts as unreachable.
HUB_TIMEOUT_S = 5.0
# Progress events per download at most this often; adapters throttle further.
REPORT_EVERY_S = 0.5
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# Weights in both formats: the safetensors copy is enough (and safe to load).
DOWNLOAD_PATTERNS = [
    "*.json",
    "*.safetensors",
    "*.model",
    "*.txt",
    "*.spm",
    "*.codes",
    "*.bin",
    "vocab.*",
]

Report = Callable[[ModelFetch], None]


@dataclass(frozen=True)
class HubFile:
    name: str
    size: int


class DownloadStopped(Exception):
    """The process is stopping: the download gives up between two chunks."""


def cached_folder(model_id: str) -> Path | None:
    """The hub cache's snapshot of a model when its config and weights are both there."""
    from huggingface_hub import try_to_load_from_cache

    try:
        config = try_to_load_from_cache(model_id, "config.json")
    except Exception:  # not a valid hub id: nothing of it can be cached
        return None
    if not isinstance(config, str):
        return None
    folder = Path(config).parent
    if any(path.suffix in WEIGHT_SUFFIXES for path in folder.iterdir()):
        return folder
    return None


def fetch_model(
    key: str, model_id: str, report: Report, stop: threading.Event | None = None
) -> str:
    """The folder to load a task's model from, downloading a hub model not on disk yet.

    Blocking: run it in a thread. Raises ModelUnavailable, or HubUnreachable when the model
    would have to come from a hub that does not answer.
    """
    if Path(model_id).expanduser().is_dir():
        return model_id
    if not is_hub_id(model_id):
        raise ModelUnavailable(key, model_id, "no such folder, and not a hub model id")
    cached = cached_folder(model_id)
    if cached is not None:
        return str(cached)
    return str(download_model(key, model_id, report, stop))


def is_hub_id(model_id: str) -> bool:
    """`org/name` or `name`: what the hub could have (a path that is not a folder is not)."""
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(model_id)
    except Exception:
        return False
    return True


def download_model(
    key: str, model_id: str, report: Report, stop: threading.Event | None = None
) -> Path:
    """Bring a hub model's files into the cache (files already there stay); its folder there.

    With HF_HUB_OFFLINE set, what the cache holds is all there is.
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        if (cached := cached_folder(model_id)) is not None:
            return cached
        raise HubUnreachable(
            key, model_id, "HF_HUB_OFFLINE is set and the model is not in the local cache"
        )
    report(ModelFetch(key, model_id))
    files = hub_files(key, model_id)
    total = sum(f.size for f in files)
    report(ModelFetch(key, model_id, 0, total))
    folder = _download(key, model_id, files, total, report, stop)
    report(ModelFetch(key, model_id, total, total))
    return folder


def hub_files(key: str, model_id: str) -> list[HubFile]:
    """The files of a model worth downloading, with their sizes: one request, HUB_TIMEOUT_S."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import filter_repo_objects

    try:
        info = HfApi().model_info(model_id, files_metadata=True, timeout=HUB_TIMEOUT_S)
    except Exception as exc:
        raise hub_error(key, model_id, exc) from exc
    sizes = {sibling.rfilename: sibling.size or 0 for sibling in info.siblings or []}
    names = list(filter_repo_objects(list(sizes), allow_patterns=DOWNLOAD_PATTERNS))
    if any(name.endswith(".safetensors") for name in names):
        names = [name for name in names if not name.endswith(".bin")]
    return [HubFile(name, sizes[name]) for name in names]


def _download(
    key: str,
    model_id: str,
    files: list[HubFile],
    total: int,
    report: Report,
    stop: threading.Event | None,
) -> Path:
    from huggingface_hub import hf_hub_download

    completed = current = 0  # bytes of the files done, of the one under way
    reported = time.monotonic()

    def tell() -> None:
        nonlocal reported
        if time.monotonic() - reported >= REPORT_EVERY_S:
            reported = time.monotonic()
            report(ModelFetch(key, model_id, min(completed + current, total), total))

    def arrived(size: int) -> None:
        nonlocal current
        if stop is not None and stop.is_set():
            raise DownloadStopped(model_id)
        current += size
        tell()

    folder: Path | None = None
    for file in files:
        current = 0
        try:
            path = hf_hub_download(
                model_id,
                file.name,
                etag_timeout=HUB_TIMEOUT_S,
                tqdm_class=counting_bar(arrived),
            )
        except DownloadStopped:
            raise
        except Exception as exc:
            raise hub_error(key, model_id, exc) from exc
        completed += file.size  # a file already in the cache counts too, though nothing came
        tell()
        folder = Path(path).parents[len(Path(file.name).parts) - 1]
    if folder is None:
        raise ModelUnavailable(key, model_id, "the hub lists no model files for it")
    return folder


def counting_bar(arrived: Callable[[int], None]) -> type[tqdm]:
    """A silent progress bar class for huggingface_hub that hands each chunk's size to `arrived`.

    Only bytes written count: `update_transfer` (bytes received, which xet downloads also
    report) is ignored so that nothing is counted twice.
    """

    class CountingBar(tqdm):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # nothing on the terminal: the bot shows progress itself
            super().__init__(*args, **kwargs)
            if kwargs.get("initial"):
                arrived(int(kwargs["initial"]))  # a resumed download's earlier bytes

        def update(self, n: float | None = 1) -> bool | None:
            arrived(int(n or 0))
            return super().update(n)

        def update_transfer(self, n: float | None = 1) -> None:
            pass

        def set_transfer_postfix_str(self, postfix: str, refresh: bool = False) -> None:
            pass

    return CountingBar


def hub_error(key: str, model_id: str, exc: BaseException) -> ModelUnavailable:
    """What went wrong talking to the hub, as the engine error the user's words are chosen by."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    detail = _first_line(exc)
    if isinstance(exc, GatedRepoError):
        return ModelUnavailable(key, model_id, f"gated on the hub: accept its terms ({detail})")
    status = getattr(getattr(exc, "response", None), "status_code", 0)
    if isinstance(exc, RepositoryNotFoundError) or status == 404:
        return ModelUnavailable(key, model_id, f"no such model on the hub ({detail})")
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachable(key, model_id, "HF_HUB_OFFLINE is set")
    if isinstance(exc, HfHubHTTPError):
        if status >= 500 or status in (408, 429):
            return HubUnreachable(
                key, model_id, f"the hub at {constants.ENDPOINT} answered {status}"
            )
        return ModelUnavailable(key, model_id, f"the hub refused it ({detail})")
    if _is_network_error(exc):
        return HubUnreachable(
            key,
            model_id,
            f"the hub at {constants.ENDPOINT} cannot be reached ({type(exc).__name__}: {detail})",
        )
    return ModelUnavailable(key, model_id, f"{type(exc).__name__}: {detail}")


def _is_network_error(exc: BaseException) -> bool:
    """Connection refused, timed out, reset, a proxy or TLS failure: the hub is not there.

    huggingface_hub 1.x raises httpx's errors, 2.x httpx2's: both derive from TransportError.
    """
    if isinstance(exc, OSError):
        return True
    return any(cls.__name__ == "TransportError" for cls in type(exc).__mro__)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


async def in_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a daemon thread with this context: a long download never holds up a stop.

    Cancelling the caller stops waiting at once; the thread finishes on its own (a download
    given `stop` gives up at its next chunk).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def run() -> None:
        try:
            result = context.run(fn, *args)
        except BaseException as exc:
            outcome: tuple[Callable[[Any], None], Any] = (future.set_exception, exc)
        else:
            outcome = (future.set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="model-fetch", daemon=True).start()
    return await future
