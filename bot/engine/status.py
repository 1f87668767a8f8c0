"""What the engine reports about itself: typed, plain data shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelStatus:
    """One task's model: whether it is loaded, its size, traffic, batching and failures."""

    model: str
    loaded: bool = False
    device: str | None = None
    dtype: str | None = None
    bytes: int = 0
    load_seconds: float = 0.0
    loads: int = 0
    requests: int = 0
    in_flight: int = 0
    queue_depth: int = 0
    batches: int = 0
    mean_batch_size: float | None = None
    queue_wait_p50_ms: float | None = None
    queue_wait_p95_ms: float | None = None
    failures: int = 0
    last_error: str | None = None
    runtime: str | None = None
    """What runs the loaded model: "torch", "ctranslate2 int8", "onnxruntime int8"..."""


@dataclass(frozen=True)
class EngineStatus:
    """The device, the memory held against the budget, and each task's model in table order."""

    device: str
    dtype: str
    budget_bytes: int = 0
    used_bytes: int = 0
    models: dict[str, ModelStatus] = field(default_factory=dict)
    # ENGINE_BACKEND=ray: each model-server replica's own figures (the fields above add them
    # up); None for the in-process engine.
    replicas: tuple[ReplicaStatus, ...] | None = None


@dataclass(frozen=True)
class ReplicaStatus:
    """One model-server replica: where it runs, and the status of the engine inside it."""

    replica: str
    node: str
    pid: int
    engine: EngineStatus
    seconds_since_report: float = 0.0
