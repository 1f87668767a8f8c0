"""`python -m bot serve-models`: the model server, a Ray Serve application wrapping the engine.

One replica per device (each GPU of the cluster, or one CPU replica), each running the whole
in-process engine: its batcher, its memory budget, its lazy loads. Bot processes reach it
through RemoteEngine (bot/engine/remote.py), which names each request's task as Serve's
multiplexed model id, so Serve sends a task's requests to the replica that already has its
model. Each replica reports its engine's status to a small board deployment every few seconds,
which is how a bot lists every replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from typing import Any

from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from bot.config import Settings
from bot.engine.errors import EngineError
from bot.engine.registry import TASK_KEYS
from bot.engine.remote import (
    BOARD_DEPLOYMENT,
    REPORT_EVERY_S,
    RemoteAnswer,
    join_ray,
)
from bot.engine.status import ReplicaStatus
from bot.engine.timings import last_timings, reset_timings

log = logging.getLogger(__name__)

SERVER_DEPLOYMENT = "ModelServer"
# The board forgets a replica silent for this long (a dead one is listed as such until then).
FORGET_AFTER_S = 60.0
# Serve checks each replica this often, so a dead one is replaced within seconds.
HEALTH_CHECK_PERIOD_S = 2.0
# A replica being stopped lets its engine finish the requests in hand (Engine.close waits 30 s).
GRACEFUL_SHUTDOWN_S = 35.0
# How long a stopping replica tries to take itself off the board.
FORGET_WITHIN_S = 2.0


class ModelServer:
    """One replica: a whole Engine on this replica's device, fed by Serve's handle calls."""

    def __init__(self, settings: Settings, board: DeploymentHandle | None = None) -> None:
        from bot.engine import Engine

        self.engine = Engine(settings)
        self.board = board
        context = serve.get_replica_context()
        self.replica = context.replica_id.unique_id
        self.node = _node_address()
        loop = asyncio.get_running_loop()
        self._reporter = loop.create_task(self._report_forever())
        self._preloading = loop.create_task(self._preload_tasks(list(settings.preload)))

    @serve.multiplexed(max_num_models_per_replica=len(TASK_KEYS))
    async def route(self, task: str) -> str:
        """Serve's view of the tasks this replica serves, which it routes by.

        The engine loads lazily and keeps its own memory budget, so here a task is only
        registered; Serve never evicts one (one slot per task).
        """
        return task

    async def run(self, task: str, inputs: list[Any], params: dict[str, Any]) -> RemoteAnswer:
        """The engine's run, with the timings the bot logs, or the engine's typed error."""
        await self.route(task)  # the request's multiplexed model id, as RemoteEngine sets it
        reset_timings()
        try:
            results = await self.engine.run(task, inputs, **params)
        except EngineError as exc:
            return RemoteAnswer(error=exc, timings=last_timings())
        return RemoteAnswer(results, last_timings())

    async def tokenize(self, task: str, texts: list[str]) -> RemoteAnswer:
        """The engine's tokenize (a tokenizer alone), or the engine's typed error."""
        await self.route(task)
        try:
            return RemoteAnswer(await self.engine.tokenize(task, texts))
        except EngineError as exc:
            return RemoteAnswer(error=exc)

    async def preload(self, task: str) -> RemoteAnswer:
        """Load one task's model here; "ok" or the error in words."""
        await self.route(task)
        return RemoteAnswer((await self.engine.preload([task]))[task])

    async def status(self) -> ReplicaStatus:
        """This replica and its engine's figures, as the board keeps them."""
        return ReplicaStatus(
            replica=self.replica, node=self.node, pid=os.getpid(), engine=self.engine.status()
        )

    async def _preload_tasks(self, tasks: list[str]) -> None:
        """PRELOAD on every replica, registered with Serve so requests come where models are."""
        for task in tasks:
            await self.route(task)
        if tasks:
            log.info("preloaded: %s", await self.engine.preload(tasks))

    async def _report_forever(self) -> None:
        while self.board is not None:
            try:
                await self.board.report.remote(await self.status())
            except Exception as exc:
                log.debug("could not report this replica's status: %s", exc)
            await asyncio.sleep(REPORT_EVERY_S)

    async def __del__(self) -> None:
        """Serve stops the replica: finish the requests in hand, free the models."""
        self._reporter.cancel()
        self._preloading.cancel()
        if self.board is not None:
            # When the whole application is deleted the board may be gone already, and a call
            # to it would wait for it until Serve kills this replica.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.board.forget.remote(self.replica), FORGET_WITHIN_S)
        await self.engine.close()


class ReplicaBoard:
    """The latest status of each model-server replica; one that stops reporting ages out."""

    def __init__(self) -> None:
        self.reports: dict[str, tuple[float, ReplicaStatus]] = {}

    def report(self, status: ReplicaStatus) -> None:
        self.reports[status.replica] = (time.monotonic(), status)

    def forget(self, replica: str) -> None:
        self.reports.pop(replica, None)

    def replicas(self) -> list[ReplicaStatus]:
        """Every replica heard from within FORGET_AFTER_S, with how long ago."""
        now = time.monotonic()
        for replica, (when, _) in list(self.reports.items()):
            if now - when > FORGET_AFTER_S:
                del self.reports[replica]
        return [
            ReplicaStatus(s.replica, s.node, s.pid, s.engine, round(now - when, 1))
            for when, s in sorted(self.reports.values(), key=lambda r: r[1].replica)
        ]


def replica_plan(settings: Settings, cluster_gpus: int) -> tuple[int, dict[str, Any], str]:
    """(replicas, each one's Ray resources, its DEVICE): one per GPU, or one CPU replica."""
    if settings.device != "cpu" and cluster_gpus >= 1:
        # Ray shows each replica only its own GPU, as cuda:0.
        return settings.serve_replicas or cluster_gpus, {"num_cpus": 1, "num_gpus": 1}, "cuda"
    return settings.serve_replicas or 1, {"num_cpus": 1}, "cpu"


def build_app(
    settings: Settings, cluster_gpus: int = 0, server_class: type[ModelServer] = ModelServer
) -> Application:
    """The Serve application: the model server, and the board its replicas report to."""
    replicas, resources, device = replica_plan(settings, cluster_gpus)
    # Secrets stay with the bot: replicas get the engine's settings only.
    replica_settings = settings.model_copy(
        update={"device": device, "telegram_bot_token": None, "webhook_secret": None}
    )
    board = serve.deployment(
        name=BOARD_DEPLOYMENT,
        num_replicas=1,
        ray_actor_options={"num_cpus": 0},
        max_ongoing_requests=1000,
    )(ReplicaBoard).bind()
    server = serve.deployment(
        name=SERVER_DEPLOYMENT,
        num_replicas=replicas,
        ray_actor_options=resources,
        # The engine queues and batches itself (QUEUE_MAX per task): let the requests reach it.
        max_ongoing_requests=settings.queue_max * len(TASK_KEYS),
        health_check_period_s=HEALTH_CHECK_PERIOD_S,
        graceful_shutdown_timeout_s=GRACEFUL_SHUTDOWN_S,
    )(server_class)
    return server.bind(replica_settings, board)


def deploy(settings: Settings, server_class: type[ModelServer] = ModelServer) -> DeploymentHandle:
    """Deploy (or update) the model server on the connected cluster; returns once it is ready."""
    import ray

    gpus = int(ray.cluster_resources().get("GPU", 0))
    # Bots call through handles: no HTTP proxy.
    serve.start(proxy_location="Disabled")
    app = build_app(settings, gpus, server_class)
    return serve.run(app, name=settings.serve_app, route_prefix=None)


def serve_models(settings: Settings, detach: bool) -> None:
    """Join RAY_ADDRESS's cluster, deploy, and (unless `detach`) keep the server up until a stop.

    Raises ConnectionError when there is no cluster there.
    """
    import ray

    address = settings.ray_address or "auto"
    join_ray(address)
    try:
        deploy(settings)
        replicas, resources, device = replica_plan(
            settings, int(ray.cluster_resources().get("GPU", 0))
        )
        log.info(
            "model server %r is up on %s: %d %s replica(s), %s each",
            settings.serve_app,
            address,
            replicas,
            device,
            resources,
        )
        if detach:
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
        log.info("stopping the model server")
        serve.delete(settings.serve_app)
    finally:
        ray.shutdown()


def _node_address() -> str:
    import ray

    try:
        return str(ray.util.get_node_ip_address())
    except Exception:
        return os.uname().nodename
