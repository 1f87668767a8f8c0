"""/estado: the engine's figures, for administrators only."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.engine.registry import TASK_KEYS
from bot.engine.status import EngineStatus, ModelStatus
from bot.status_view import status_lines
from tests.handlers.conftest import ANA, BEA, Chat, MakeServices, plain


async def test_only_admins_see_the_status(make_services: MakeServices) -> None:
    services = await make_services(admin_users=[ANA])
    assert (await Chat(services, user_id=BEA).command("estado")).parts == [texts.ADMIN_ONLY]
    reply = await Chat(services, user_id=ANA).command("estado")
    for key in TASK_KEYS:
        assert f" {key}: " in plain(reply)


async def test_nobody_is_admin_by_default(chat: Chat) -> None:
    assert (await chat.command("estado")).parts == [texts.ADMIN_ONLY]


async def test_a_used_model_shows_as_loaded_with_its_traffic(make_services: MakeServices) -> None:
    services = await make_services(admin_users=[ANA])
    admin = Chat(services)
    await admin.command("sentimiento", "Qué día tan bonito")
    text = plain(await admin.command("estado"))
    assert "● sentiment: cargado" in text
    assert "○ pos: sin cargar" in text
    assert "peticiones: 1" in text


def model(**figures: Any) -> ModelStatus:
    return ModelStatus(**{"model": "org/model", **figures})


def test_status_lines_carry_every_figure() -> None:
    status = EngineStatus(
        device="cuda:0",
        dtype="float16",
        budget_bytes=4096 * 2**20,
        used_bytes=300 * 2**20,
        models={
            "qa": model(
                loaded=True,
                device="cuda:0",
                dtype="float16",
                bytes=300 * 2**20,
                load_seconds=2.5,
                loads=1,
                requests=12,
                in_flight=1,
                queue_depth=2,
                batches=8,
                mean_batch_size=1.5,
                queue_wait_p50_ms=3.25,
                queue_wait_p95_ms=40.0,
                failures=1,
                last_error="RuntimeError: boom",
            ),
            "pos": model(),
        },
    )
    text = "\n".join(status_lines(status))
    for figure in (
        "cuda:0", "float16", "300 MB de 4096 MB", "● qa", "300 MB", "2,5 s", "peticiones: 12",
        "cargas: 1", "en curso: 1", "en cola: 2", "lotes: 8", "1,5", "3,2 ms", "40 ms",
        "fallos: 1", "RuntimeError: boom", "○ pos: sin cargar", "org/model",
    ):  # fmt: skip
        assert figure in text, figure


def test_no_memory_budget_reads_as_no_limit() -> None:
    status = EngineStatus(device="cpu", dtype="float32")
    assert "sin límite" in "\n".join(status_lines(status))


async def test_the_console_operator_sees_the_status_without_being_an_admin(chat: Chat) -> None:
    reply = await chat.command("estado", operator=True)
    assert reply.parts[0].startswith(texts.STATUS_TITLE)
