"""Ingress, two workers, Redis and the model server over the local Bot API server: each message
answered once.

Twenty group chats send twenty messages each: a reading text, question mode with many
questions, /fin, a one-off question, question mode again. One worker is SIGKILLed while it is
answering a question (its download of the attached file is held) and restarted later. The
processes are real `python -m bot ingress` / `worker` / `serve-models` runs: the workers load no
model and send every question to the model server on a local Ray cluster, whose replica has a
stand-in QA model that always answers "Zaragoza".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot import texts
from bot.config import Settings
from bot.update_stream import key, partition_of
from tests.e2e.botapi_server import BotApiServer
from tests.e2e.conftest import ANA
from tests.e2e.telegram_chats import ChatSpec, group_chat
from tests.e2e.test_crash_recovery import REPO, BotProcess
from tests.redis_server import free_port
from tests.tiny_models import build_controlled_qa

CHATS = 20
PARTITIONS = 8
LEASE_S = 3.0
START_S = 120.0
"""Two workers importing torch and loading a model at once, on a busy two-core machine."""
ANSWERS_S = 60.0
PROBE = 9
"""Index of the message, in the probe chat, that the victim is answering when it is killed."""
MODEL_SERVER_APP = "tertulia-e2e"
"""Its own Serve application, beside the session's model server on the same cluster."""


def chat_for(n: int) -> ChatSpec:
    return group_chat(chat_id=-(1000 + n), title=f"Tertulia {n}", type="group")


def reading_text(n: int) -> str:
    return f"La tertulia {n} nació en Zaragoza. Se reúne los martes por la tarde."


def script(n: int) -> list[str]:
    """Twenty messages; each gets exactly one reply, which quotes it (it is a group)."""

    def question(k: int) -> str:
        return f"¿Dónde nació la tertulia {n}? ({k})"

    return [
        f"/contexto {reading_text(n)}",
        "/pregunta",
        *[question(k) for k in range(2, 10)],
        "/fin",
        f"/pregunta ¿Dónde nació la tertulia {n}?",
        "/pregunta",
        *[question(k) for k in range(13, 19)],
        "/fin",
    ]


def check_reply(n: int, sent: str, reply: dict[str, Any]) -> None:
    plain = reply["plain_text"]
    if sent.startswith("/contexto"):
        assert "Guardado como texto de lectura" in plain, plain
    elif sent == "/pregunta":
        assert "Modo preguntas activado" in plain, plain
    elif sent == "/fin":
        assert texts.QUESTIONS_ENDED in plain, plain
    else:
        # Answered from this chat's own reading text, whichever worker stored it.
        assert "Zaragoza" in plain and f"La tertulia {n} nació en Zaragoza" in plain, plain


class HoldingServer(BotApiServer):
    """A Bot API server that can hold file downloads (to catch a worker mid-update) and getMe
    (to keep a starting worker from taking partitions)."""

    def __init__(self) -> None:
        super().__init__()
        self.downloads_open = asyncio.Event()
        self.downloads_open.set()
        self.download_asked = asyncio.Event()
        self.get_me_open = asyncio.Event()
        self.get_me_open.set()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        self.download_asked.set()
        await self.downloads_open.wait()
        return await super()._handle_file(request)

    async def _get_me(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        await self.get_me_open.wait()
        return await super()._get_me(params, files)


@pytest.fixture(scope="session")
def zaragoza_qa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_controlled_qa(tmp_path_factory.mktemp("qa"), "Zaragoza")


@pytest.fixture
async def server() -> AsyncIterator[HoldingServer]:
    async with HoldingServer() as api:
        yield api


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def env(server: BotApiServer, redis_url: str, zaragoza_qa: Path, tmp_path: Path) -> dict[str, str]:
    """What every process of the deployment gets; the workers load the QA model at start."""
    values = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    values.update(
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        REDIS_URL=redis_url,
        UPDATE_PARTITIONS=str(PARTITIONS),
        WORKER_LEASE_SECONDS=str(LEASE_S),
        MODEL_QA=str(zaragoza_qa),
        PRELOAD="qa",
        HF_HUB_OFFLINE="1",
        DATA_DIR=str(tmp_path / "data"),
        TORCH_THREADS="1",
        RATE_LIMIT_PER_MINUTE="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), values.get("PYTHONPATH")])),
    )
    return values


class Deployment:
    """The processes of one test, started in `tmp_path`, all stopped at the end."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = env
        self.tmp_path = tmp_path
        self.processes: list[BotProcess] = []

    async def start(self, command: str) -> BotProcess:
        process = BotProcess(
            self.env, self.tmp_path / f"{command}-{len(self.processes)}.log", command
        )
        self.processes.append(process)
        await process.start()
        return process

    def output(self) -> str:
        return "\n".join(f"--- {p.log_path.name} ---\n{p.output()}" for p in self.processes)


@pytest.fixture
async def deployment(env: dict[str, str], tmp_path: Path) -> AsyncIterator[Deployment]:
    started = Deployment(env, tmp_path)
    yield started
    for process in started.processes:
        await process.kill()


def pid(process: BotProcess) -> int:
    assert process.process is not None
    return process.process.pid


async def lease_owners(redis: Redis) -> dict[int, int]:
    """Partition -> the process id of the worker holding it (worker names end -pid-random)."""
    names = await redis.mget([key("lease", p) for p in range(PARTITIONS)])
    return {p: int(name.rsplit("-", 2)[1]) for p, name in enumerate(names) if name}


async def balanced(
    redis: Redis, workers: list[BotProcess], deployment: Deployment, timeout: float
) -> dict[int, int]:
    """Wait until these workers, and only they, hold an even share of the partitions each."""
    expected = {pid(worker) for worker in workers}
    share = PARTITIONS // len(workers)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        owners = await lease_owners(redis)
        counts = [list(owners.values()).count(worker) for worker in expected]
        if len(owners) == PARTITIONS and set(owners.values()) == expected and min(counts) == share:
            return owners
        if loop.time() > deadline:
            raise AssertionError(f"leases not balanced: {owners}\n{deployment.output()}")
        await asyncio.sleep(0.1)


async def replies(
    server: BotApiServer,
    wanted: dict[int, int],
    deployment: Deployment,
    timeout: float = ANSWERS_S,
) -> None:
    """Wait until each chat id has at least its wanted number of bot messages."""

    def done() -> bool:
        return all(len(server.messages(chat)) >= count for chat, count in wanted.items())

    try:
        await server.wait_until(done, timeout)
    except TimeoutError:
        got = {chat: len(server.messages(chat)) for chat in wanted}
        raise AssertionError(f"replies wanted {wanted}, got {got}\n{deployment.output()}") from None


async def start_model_server(deployment: Deployment, ray_cluster: str) -> None:
    """`serve-models` on the session's cluster, and every later process sent to it."""
    deployment.env.update(
        ENGINE_BACKEND="ray",
        RAY_ADDRESS=ray_cluster,
        SERVE_APP=MODEL_SERVER_APP,
        SERVE_REPLICAS="1",
    )
    await deployment.start("serve-models")
    from bot.engine.remote import SILENT_AFTER_S, RemoteEngine

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, engine_backend="ray", ray_address=ray_cluster, serve_app=MODEL_SERVER_APP
    )
    engine = RemoteEngine(settings)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_S
    try:
        while True:
            with contextlib.suppress(ConnectionError):
                status = await engine.refresh_status()
                if any(r.seconds_since_report <= SILENT_AFTER_S for r in status.replicas or ()):
                    return
            if loop.time() > deadline:
                raise AssertionError(f"no model server replica\n{deployment.output()}")
            await asyncio.sleep(0.5)
    finally:
        await engine.close()


@pytest.fixture
def cluster(ray_cluster: str) -> Iterator[str]:
    """The session's Ray cluster, left without this test's model server whatever happened
    (a SIGTERM to `serve-models` deletes it; a failed test may not have sent one)."""
    yield ray_cluster
    from ray import serve

    with contextlib.suppress(Exception):
        serve.delete(MODEL_SERVER_APP)


async def test_two_workers_answer_each_message_once_in_order_across_a_sigkill(
    server: HoldingServer, redis: Redis, deployment: Deployment, cluster: str
) -> None:
    chats = {n: chat_for(n) for n in range(CHATS)}
    scripts = {n: script(n) for n in chats}
    sent: dict[int, list[int]] = {n: [] for n in chats}

    def send(n: int, index: int, **kwargs: Any) -> None:
        update = server.user_sends(chats[n], ANA, scripts[n][index], **kwargs)
        sent[n].append(int(update["message"]["message_id"]))

    def send_wave(indexes: range, skip: Callable[[int, int], bool] = lambda n, i: False) -> None:
        for index in indexes:
            for n in chats:
                if not skip(n, index):
                    send(n, index)

    await start_model_server(deployment, cluster)
    await deployment.start("ingress")
    victim = await deployment.start("worker")
    survivor = await deployment.start("worker")
    owners = await balanced(redis, [victim, survivor], deployment, START_S)
    # The probe chat's reading text is stored through the victim; its question after the kill
    # can only be answered by the survivor.
    probe = next(n for n in chats if owners[partition_of(chats[n].id, PARTITIONS)] == pid(victim))

    # Wave 1: the first ten messages everywhere, the probe chat's tenth held back.
    send_wave(range(PROBE + 1), skip=lambda n, i: n == probe and i == PROBE)
    await replies(server, {chats[n].id: PROBE + (n != probe) for n in chats}, deployment)

    # The probe question comes with a file, whose download is held: the victim is mid-update.
    server.downloads_open.clear()
    send(probe, PROBE, document=("nota.txt", b"Una nota.", "text/plain"))
    await asyncio.wait_for(server.download_asked.wait(), ANSWERS_S)
    await victim.kill()
    assert victim.process is not None and victim.process.returncode == -signal.SIGKILL
    # Restarted at once, but held at getMe (after loading its model, before taking partitions)
    # until the probe question is answered: by the survivor, which takes the victim's
    # partitions once their leases end.
    server.get_me_open.clear()
    restarted = await deployment.start("worker")

    # Wave 2 while the victim is dead.
    send_wave(range(PROBE + 1, 15))
    server.downloads_open.set()
    await replies(server, {chats[probe].id: PROBE + 1}, deployment)
    check_reply(probe, scripts[probe][PROBE], server.messages(chats[probe].id)[PROBE])
    await replies(server, {chat.id: 15 for chat in chats.values()}, deployment)
    server.get_me_open.set()
    await balanced(redis, [restarted, survivor], deployment, START_S)

    # Wave 3 with both workers again.
    send_wave(range(15, 20))
    await replies(server, {chat.id: 20 for chat in chats.values()}, deployment)
    await asyncio.sleep(1.0)  # time for a duplicate to show up, if there were one

    for n, chat in chats.items():
        messages = server.messages(chat.id)
        assert [m["reply_to"] for m in messages] == sent[n], f"chat {n}: {messages}"
        for text, reply in zip(scripts[n], messages, strict=True):
            check_reply(n, text, reply)
    assert not any(
        texts.SHUTTING_DOWN in m["plain_text"]
        for c in chats.values()
        for m in server.messages(c.id)
    )
    assert not server.errors, server.errors

    # Nothing left behind in Redis, and a stop is a clean one.
    backlog = [await redis.xlen(key("updates", p)) for p in range(PARTITIONS)]
    assert backlog == [0] * PARTITIONS
    running = [
        p.process for p in deployment.processes if p.process and p.process.returncode is None
    ]
    for process in running:
        process.send_signal(signal.SIGTERM)
    codes = [await asyncio.wait_for(process.wait(), 20) for process in running]
    assert codes == [0] * len(running), deployment.output()


async def test_the_webhook_answers_telegram_only_once_the_update_is_in_redis(
    server: HoldingServer, redis: Redis, deployment: Deployment
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    deployment.env.update(
        WEBHOOK_URL=url, WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET="s3cr3t"
    )
    await deployment.start("ingress")
    await server.wait_until(lambda: server.webhook_url == url, timeout=START_S)
    chat = chat_for(1)
    update = {
        "update_id": 700,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": chat.to_dict(),
            "from": ANA.to_dict(),
            "text": "/contexto Hola",
            "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
        },
    }
    stream = key("updates", partition_of(chat.id, PARTITIONS))

    async with aiohttp.ClientSession() as session:

        async def deliver(secret: str) -> int:
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with session.post(url, json=update, headers=headers) as response:
                return response.status

        for _ in range(200):  # the webhook server starts listening just after setWebhook
            with contextlib.suppress(aiohttp.ClientConnectionError):
                assert await deliver("wrong") == 403
                break
            await asyncio.sleep(0.05)
        assert await redis.xlen(stream) == 0
        assert await deliver("s3cr3t") == 200
        [(_, fields)] = await redis.xrange(stream)  # appended before the answer
        assert json.loads(fields["update"])["message"]["text"] == "/contexto Hola"
        # Telegram delivers it again (it missed our answer): appended once all the same.
        assert await deliver("s3cr3t") == 200
        assert await redis.xlen(stream) == 1
