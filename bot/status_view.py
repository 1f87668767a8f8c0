"""`engine.status()` as plain lines of text: the same figures for /estado and `status`.

The lines are plain text (no HTML): /estado escapes them, the command line prints them.
"""

from __future__ import annotations

from bot import texts
from bot.engine.remote import SILENT_AFTER_S
from bot.engine.status import EngineStatus, ModelStatus, ReplicaStatus

NOT_AVAILABLE = "—"


def status_lines(status: EngineStatus) -> list[str]:
    """The device and memory first, then a few lines per model in registry order."""
    lines = [
        texts.STATUS_DEVICE.format(device=status.device, dtype=status.dtype),
        memory_line(status.used_bytes, status.budget_bytes),
    ]
    if status.replicas is not None:
        lines += replica_lines(status.replicas)
    for key, model in status.models.items():
        lines += model_lines(key, model)
    return lines


def replica_lines(replicas: tuple[ReplicaStatus, ...]) -> list[str]:
    """ENGINE_BACKEND=ray: one line per model-server replica; a silent one says since when."""
    live = [r for r in replicas if r.seconds_since_report <= SILENT_AFTER_S]
    lines = [texts.STATUS_REPLICAS.format(count=len(live)) if live else texts.STATUS_NO_REPLICAS]
    for replica in replicas:
        engine = replica.engine
        lines.append(
            texts.STATUS_REPLICA.format(
                replica=replica.replica,
                node=replica.node,
                pid=replica.pid,
                device=engine.device,
                dtype=engine.dtype,
                used=megabytes(engine.used_bytes),
            )
        )
        if replica.seconds_since_report > SILENT_AFTER_S:
            lines.append(
                texts.STATUS_REPLICA_SILENT.format(seconds=seconds(replica.seconds_since_report))
            )
    return lines


def memory_line(used: int, budget: int) -> str:
    """Memory held by loaded models, against MODEL_MEMORY_MB (0 means no limit)."""
    if not budget:
        return texts.STATUS_MEMORY_UNLIMITED.format(used=megabytes(used))
    return texts.STATUS_MEMORY.format(used=megabytes(used), budget=megabytes(budget))


def model_lines(key: str, model: ModelStatus) -> list[str]:
    """Whether a model is loaded, which one it is, its traffic, batching and failures."""
    if model.loaded:
        head = texts.STATUS_MODEL_LOADED.format(
            key=key,
            size=megabytes(model.bytes),
            device=model.device or NOT_AVAILABLE,
            # A converted model shows its runtime ("onnxruntime int8") where torch shows a dtype.
            dtype=(model.runtime if model.runtime not in (None, "torch") else model.dtype)
            or NOT_AVAILABLE,
            seconds=seconds(model.load_seconds),
        )
    else:
        head = texts.STATUS_MODEL_IDLE.format(key=key)
    lines = [head, texts.STATUS_MODEL_ID.format(model=model.model)]
    if model.loaded or model.loads or model.requests:
        lines.append(
            texts.STATUS_MODEL_TRAFFIC.format(
                requests=model.requests,
                loads=model.loads,
                in_flight=model.in_flight,
                queued=model.queue_depth,
            )
        )
    if model.batches:
        lines.append(
            texts.STATUS_MODEL_BATCHES.format(
                batches=model.batches,
                mean=decimal(model.mean_batch_size),
                p50=milliseconds(model.queue_wait_p50_ms),
                p95=milliseconds(model.queue_wait_p95_ms),
            )
        )
    if model.failures:
        lines.append(
            texts.STATUS_MODEL_FAILURES.format(
                failures=model.failures, error=model.last_error or NOT_AVAILABLE
            )
        )
    return lines


def decimal(value: float | None, digits: int = 1) -> str:
    """A number with a Spanish decimal comma, or a dash when there is none."""
    if value is None:
        return NOT_AVAILABLE
    return f"{value:.{digits}f}".replace(".", ",")


def megabytes(size: int) -> str:
    mb = size / 2**20
    return f"{decimal(mb, 0 if mb >= 10 else 1)} MB"


def seconds(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{decimal(value, 1)} s"


def milliseconds(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{decimal(value, 0 if value >= 10 else 1)} ms"
