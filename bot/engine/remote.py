"""RemoteEngine: the inference backend of bot processes when ENGINE_BACKEND=ray.

Every call goes to the model server that `python -m bot serve-models` deploys on Ray Serve
(bot/serve_models.py), tagged with its task as Serve's multiplexed model id, so each task's
requests go to the replica that already has its model. The replicas run the in-process engine,
so the results and the typed errors are the same; a replica that dies under a request costs one
retry, and past ENGINE_TIMEOUT_SECONDS the caller gets ModelServerUnavailable, an EngineBusy.

Imports no torch, and Ray only when it connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.engine.errors import (
    EngineClosed,
    EngineError,
    InferenceFailed,
    ModelServerUnavailable,
)
from bot.engine.registry import get_spec, model_id
from bot.engine.results import Tokenization
from bot.engine.status import EngineStatus, ModelStatus, ReplicaStatus
from bot.engine.timings import RunTimings, start_timings

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

BOARD_DEPLOYMENT = "ReplicaBoard"
"""The deployment holding each replica's latest status, so a bot can list every replica."""

# A lost replica is retried once, this long after, which gives Serve time to notice it.
RETRY_AFTER_S = 1.0
# How often a bot process asks for every replica's status (what /estado shows).
STATUS_EVERY_S = 5.0
# Each replica reports its status this often (bot/serve_models.py); one silent for longer is
# taken for dead: listed, but its figures no longer added up.
REPORT_EVERY_S = 2.0
SILENT_AFTER_S = 3 * REPORT_EVERY_S
# How long joining the cluster may take to find anything listening at RAY_ADDRESS.
CONNECT_TIMEOUT_S = 5.0
# How long `close` waits for requests in flight, as the in-process engine does.
CLOSE_WAIT_S = 30.0


@dataclass(frozen=True)
class RemoteAnswer:
    """A replica's answer to one call: its result and where the time went, or the engine's
    refusal (sent as a value: Serve would log every refused input as a failed request)."""

    result: Any = None
    timings: RunTimings | None = None
    error: EngineError | None = None


class RemoteEngine:
    """The InferenceBackend on Ray Serve: run, preload, status and close, as the engine has."""

    def __init__(self, settings: Settings, server: Any = None, board: Any = None) -> None:
        """`server` and `board`: Serve handles; without them `connect` finds the model server."""
        self.settings = settings
        self._server = server
        self._board = board
        self._owns_ray = False
        self._connecting = asyncio.Lock()
        self._closed = False
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._status = aggregate_status([])
        self._refresher: asyncio.Task[None] | None = None
        self.retries = 0
        """Requests sent a second time because a replica was lost (for tests and logs)."""

    async def connect(self) -> None:
        """Join the Ray cluster at RAY_ADDRESS and find the model server.

        Raises ConnectionError naming the address when there is no cluster or no model server.
        """
        async with self._connecting:
            if self._server is None:
                address = self.settings.ray_address
                self._server, self._board, self._owns_ray = await asyncio.to_thread(
                    find_model_server, address, self.settings.serve_app
                )
                log.info("connected to the model server on the Ray cluster %s", address or "auto")
            if self._refresher is None:
                self._refresher = asyncio.create_task(self._refresh_forever())

    async def run(self, task: str, inputs: list[Any], **params: Any) -> list[Any]:
        """One result per input, in order, computed by a model-server replica."""
        get_spec(task)  # UnknownTask here, and never an unknown multiplexed id on the server
        if self._closed:
            raise EngineClosed(task)
        answer = await self._call(task, "run", task, inputs, params)
        if answer.timings is not None:
            timings = start_timings(task, answer.timings.model)
            timings.queue_wait_s = answer.timings.queue_wait_s
            timings.inference_s = answer.timings.inference_s
        results: list[Any] = answer.result
        return results

    async def tokenize(self, task: str, texts: list[str]) -> list[Tokenization]:
        """How a task's tokenizer cuts each text, on the replica that serves the task."""
        get_spec(task)
        if self._closed:
            raise EngineClosed(task)
        results: list[Tokenization] = (await self._call(task, "tokenize", task, texts)).result
        return results

    async def preload(self, keys: list[str] | None = None) -> dict[str, str]:
        """Load each task's model on the replica that will serve it; key -> "ok" or the error."""
        outcome: dict[str, str] = {}
        for key in keys if keys is not None else self.settings.preload:
            get_spec(key)
            try:
                outcome[key] = (await self._call(key, "preload", key)).result
            except EngineError as exc:
                outcome[key] = str(exc)
        return outcome

    def status(self) -> EngineStatus:
        """Every replica's figures as last reported (refreshed every STATUS_EVERY_S)."""
        return self._status

    async def refresh_status(self) -> EngineStatus:
        """Ask the model server for every replica's status now."""
        await self.connect()
        reports: list[ReplicaStatus] = await self._board.replicas.remote()
        self._status = aggregate_status(reports)
        return self._status

    async def close(self) -> None:
        """Let requests in flight finish, then leave the cluster if this engine joined it."""
        self._closed = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=CLOSE_WAIT_S)
        except TimeoutError:
            log.warning("closing with requests to the model server still in flight")
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._owns_ray:
            import ray

            await asyncio.to_thread(ray.shutdown)
            self._owns_ray = False

    async def _call(self, task: str, method: str, *args: Any) -> RemoteAnswer:
        """One call to the replica serving `task`: a lost replica is retried once, in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.engine_timeout_seconds
        self._pending += 1
        self._idle.clear()
        try:
            try:
                await self.connect()
            except (ConnectionError, OSError) as exc:
                raise ModelServerUnavailable(task, str(exc)) from None
            reason = "no answer"
            for attempt in range(2):
                if attempt:
                    log.warning("model server lost a request for %s (%s): retrying", task, reason)
                    self.retries += 1
                    await asyncio.sleep(min(RETRY_AFTER_S, max(deadline - loop.time(), 0)))
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                response = getattr(self._server.options(multiplexed_model_id=task), method)
                request = response.remote(*args)
                try:
                    answer: RemoteAnswer = await asyncio.wait_for(request, remaining)
                except TimeoutError:
                    request.cancel()
                    reason = f"no answer within {self.settings.engine_timeout_seconds:g} s"
                    break
                except Exception as exc:
                    error = remote_cause(exc)
                    if not replica_lost(error):
                        raise engine_error(error, task, self.settings) from None
                    reason = f"{type(error).__name__}: {error}"[:300]
                    continue
                if answer.error is None:
                    return answer
                if not replica_lost(answer.error):
                    raise answer.error
                reason = str(answer.error)  # that replica is stopping: another one will answer
            raise ModelServerUnavailable(task, reason)
        finally:
            self._pending -= 1
            if not self._pending:
                self._idle.set()

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh_status()
            except Exception as exc:
                # The replicas' figures go stale; requests say for themselves what is wrong.
                log.debug("could not refresh the model server's status: %s", exc)
            await asyncio.sleep(STATUS_EVERY_S)


async def remote_status(settings: Settings) -> EngineStatus:
    """`python -m bot status` with ENGINE_BACKEND=ray: every replica's figures, once."""
    engine = RemoteEngine(settings)
    try:
        return await engine.refresh_status()
    finally:
        await engine.close()


def find_model_server(address: str, app: str) -> tuple[Any, Any, bool]:
    """Serve handles to the model server `app` (SERVE_APP) and its board, and whether this call
    joined Ray."""
    import ray
    from ray import serve
    from ray.serve.exceptions import RayServeException

    joined = False
    if not ray.is_initialized():
        join_ray(address, log_to_driver=False)
        joined = True
    try:
        server = serve.get_app_handle(app)
        board = serve.get_deployment_handle(BOARD_DEPLOYMENT, app_name=app)
    except RayServeException as exc:
        if joined:
            ray.shutdown()
        raise ConnectionError(
            f"no model server {app!r} on the Ray cluster at RAY_ADDRESS={address or 'auto'}; "
            f"start it with `python -m bot serve-models` ({exc})"
        ) from exc
    return server, board, joined


def join_ray(address: str, **options: Any) -> None:
    """ray.init on RAY_ADDRESS's cluster ("auto": the one `ray start` runs here).

    Raises ConnectionError at once where nothing listens: Ray itself retries for minutes.
    """
    import ray

    address = address or "auto"
    host, _, port = address.rpartition(":")
    if host and port.isdigit() and "://" not in address:
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise ConnectionError(f"no Ray cluster at RAY_ADDRESS={address}: {exc}") from exc
    try:
        ray.init(address=address, logging_level=logging.WARNING, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConnectionError(f"no Ray cluster at RAY_ADDRESS={address}: {exc}") from exc


def remote_cause(exc: BaseException) -> BaseException:
    """The exception the replica raised, without Ray's wrapper (RayTaskError keeps it)."""
    from ray.exceptions import RayTaskError

    if isinstance(exc, RayTaskError) and isinstance(exc.cause, BaseException):
        return exc.cause
    return exc


def engine_error(error: BaseException, task: str, settings: Settings) -> EngineError:
    """What the caller gets for a remote failure that a retry would not mend."""
    if isinstance(error, EngineError):
        return error
    model = model_id(task, settings.model_for(task))
    return InferenceFailed(task, model, f"{type(error).__name__}: {error}"[:300])


def replica_lost(error: BaseException) -> bool:
    """Whether another try may succeed: the replica died, is stopping or was not there."""
    from ray.exceptions import NodeDiedError, RayActorError, WorkerCrashedError
    from ray.serve.exceptions import (
        BackPressureError,
        DeploymentUnavailableError,
        ReplicaUnavailableError,
    )

    lost = (
        RayActorError,
        WorkerCrashedError,
        NodeDiedError,
        ReplicaUnavailableError,
        DeploymentUnavailableError,
        BackPressureError,
        EngineClosed,
    )
    return isinstance(error, lost)


# Status
def aggregate_status(replicas: list[ReplicaStatus]) -> EngineStatus:
    """The model server as one engine (the live replicas' memory and traffic added up), with
    every replica listed."""
    engines = [r.engine for r in replicas if r.seconds_since_report <= SILENT_AFTER_S]
    keys = list(dict.fromkeys(key for engine in engines for key in engine.models))
    return EngineStatus(
        device=", ".join(dict.fromkeys(engine.device for engine in engines)) or "—",
        dtype=", ".join(dict.fromkeys(engine.dtype for engine in engines)) or "—",
        budget_bytes=sum(engine.budget_bytes for engine in engines),
        used_bytes=sum(engine.used_bytes for engine in engines),
        models={
            key: merge_models([e.models[key] for e in engines if key in e.models]) for key in keys
        },
        replicas=tuple(replicas),
    )


def merge_models(models: list[ModelStatus]) -> ModelStatus:
    """One task's model over every replica; wait percentiles are the worst replica's."""
    loaded = [m for m in models if m.loaded]
    batches = sum(m.batches for m in models)
    items = sum((m.mean_batch_size or 0) * m.batches for m in models)
    first = loaded[0] if loaded else models[0]
    return replace(
        first,
        loaded=bool(loaded),
        bytes=sum(m.bytes for m in models),
        load_seconds=max(m.load_seconds for m in models),
        loads=sum(m.loads for m in models),
        requests=sum(m.requests for m in models),
        in_flight=sum(m.in_flight for m in models),
        queue_depth=sum(m.queue_depth for m in models),
        batches=batches,
        mean_batch_size=round(items / batches, 2) if batches else None,
        queue_wait_p50_ms=_worst(m.queue_wait_p50_ms for m in models),
        queue_wait_p95_ms=_worst(m.queue_wait_p95_ms for m in models),
        failures=sum(m.failures for m in models),
        last_error=next((m.last_error for m in models if m.last_error), first.last_error),
    )


def _worst(values: Any) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
