"""All settings, read from the environment and a `.env` file: the only place that reads them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import texts

CommaList = Annotated[list[str], NoDecode]
CommaInts = Annotated[list[int], NoDecode]
GenerationValue = bool | int | float
GenerationSettings = Annotated[dict[str, GenerationValue], NoDecode]
RUNTIME_KEYS = (
    "translate_es_en",
    "translate_en_es",
    "summarize",
    "qa",
    "zero_shot",
    "fill_mask",
    "poem",
    "pos",
    "sentiment",
    "language",
    "transcribe",
)
"""The task keys with a RUNTIME_<KEY> setting (the engine's registry, which this module never
imports)."""
RuntimeName = Literal["auto", "torch", "ctranslate2", "onnxruntime"]
RuntimeOverride = Literal["", "auto", "torch", "ctranslate2", "onnxruntime"]

_GENERATION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_generation(value: object, setting: str) -> object:
    """``num_beams=2,max_new_tokens=64`` as typed values; the task checks names and ranges.

    Raises ValueError naming the setting, so a typo stops the bot at start, not at first use.
    """
    if not isinstance(value, str):
        return value
    parsed: dict[str, GenerationValue] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, equals, raw = (x.strip() for x in part.partition("="))
        if not equals or not _GENERATION_NAME.match(name):
            raise ValueError(f"{setting}: write name=value pairs separated by commas, got {part!r}")
        if name in parsed:
            raise ValueError(f"{setting}: {name} is given twice")
        parsed[name] = _generation_value(raw, name, setting)
    return parsed


def _generation_value(raw: str, name: str, setting: str) -> GenerationValue:
    """true/false, an integer or a number; nothing else is a generation setting."""
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    raise ValueError(f"{setting}: {name} must be a number, true or false, got {raw!r}")


class Settings(BaseSettings):
    """Tertulia's settings; every field is documented in `.env.example` and the README."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", protected_namespaces=()
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    admin_users: CommaInts = Field(default_factory=list)
    allowed_chats: CommaInts = Field(default_factory=list)
    default_labels: CommaList = Field(default_factory=lambda: list(texts.DEFAULT_LABELS))

    # Webhook mode
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None

    # State
    data_dir: Path = Path("data")
    data_retention_days: int = Field(default=30, ge=0)
    question_idle_minutes: int = Field(default=10, ge=1)
    # Chat state, rate limits and refusals in Redis, shared by every bot process; empty: SQLite.
    redis_url: str = ""
    # Several workers (`python -m bot ingress` + `python -m bot worker`, REDIS_URL required):
    # chats are split into this many stream partitions, the same number in every process.
    update_partitions: int = Field(default=16, ge=1, le=1024)
    # A worker that stops renewing its partitions' leases (it died) loses them after this long.
    worker_lease_seconds: float = Field(default=10.0, ge=0.5)

    # Limits
    max_input_chars: int = Field(default=20_000, ge=1)
    max_document_bytes: int = Field(default=2_048_000, ge=1)
    # Tests only: lets links reach loopback and private addresses (a local test server).
    links_allow_private: bool = False
    rate_limit_per_minute: int = Field(default=20, ge=0)
    # Voice notes, audio files and video notes: longer ones are refused before any model runs;
    # bigger files are not downloaded (the Bot API serves at most 20 MB).
    max_audio_seconds: int = Field(default=300, ge=1)
    max_audio_bytes: int = Field(default=20_000_000, ge=1)
    # Inline mode: how long Telegram may reuse an answer for the same user and query.
    inline_cache_seconds: int = Field(default=30, ge=0)
    # Groups: automatic translations (/autotraducir) per group and minute, 0 for no limit; how
    # long a group's messages are kept with /memoria on (at most 24 h).
    autotranslate_per_minute: int = Field(default=6, ge=0)
    group_memory_hours: int = Field(default=24, ge=1, le=24)

    # Where the models run: in this process (local), or on the model server that
    # `python -m bot serve-models` deploys on the Ray cluster at RAY_ADDRESS (ray).
    engine_backend: Literal["local", "ray"] = "local"
    # Ray's own setting; empty: the cluster that `ray start` runs on this machine.
    ray_address: str = ""
    # ENGINE_BACKEND=ray: how long a request waits for the model server, a retry included,
    # before the user is told the bot is busy.
    engine_timeout_seconds: float = Field(default=60.0, gt=0)
    # `serve-models`: replicas of the model server; 0 means one per GPU in the cluster, or one
    # CPU replica where there is none.
    serve_replicas: int = Field(default=0, ge=0)
    # The Serve application's name: bots on one cluster (production, staging) each name theirs.
    serve_app: str = Field(default="tertulia-models", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")

    # Engine
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    torch_threads: int = Field(default=0, ge=0)
    model_memory_mb: float = Field(default=0, ge=0)
    preload: CommaList = Field(default_factory=list)
    batch_max_size: int = Field(default=32, ge=1)
    batch_max_tokens: int = Field(default=8192, ge=1)
    queue_max: int = Field(default=256, ge=1)
    batch_wait_ms: float = Field(default=10.0, ge=0)
    # Which library runs each model: torch as loaded, CTranslate2 (generation) or ONNX Runtime
    # (encoders) from a converted copy; auto picks per task and device. RUNTIME_<KEY> overrides.
    runtime: RuntimeName = "auto"
    # Where converted copies are cached; empty means <DATA_DIR>/converted.
    converted_dir: Path | None = None

    # One model per task key: a hub id or a local folder; empty means the registry's default.
    model_translate_es_en: str = ""
    model_translate_en_es: str = ""
    model_summarize: str = ""
    model_qa: str = ""
    model_zero_shot: str = ""
    model_fill_mask: str = ""
    model_poem: str = ""
    model_pos: str = ""
    model_sentiment: str = ""
    model_language: str = ""
    model_transcribe: str = ""

    # Generation settings per generative task, over the model's own generation config and under
    # a caller's explicit parameters: "num_beams=2,max_new_tokens=64"; empty keeps the model's.
    generation_translate_es_en: GenerationSettings = Field(default_factory=dict)
    generation_translate_en_es: GenerationSettings = Field(default_factory=dict)
    generation_summarize: GenerationSettings = Field(default_factory=dict)
    generation_poem: GenerationSettings = Field(default_factory=dict)
    generation_transcribe: GenerationSettings = Field(default_factory=dict)

    # One runtime per task key, over RUNTIME; empty means RUNTIME's.
    runtime_translate_es_en: RuntimeOverride = ""
    runtime_translate_en_es: RuntimeOverride = ""
    runtime_summarize: RuntimeOverride = ""
    runtime_qa: RuntimeOverride = ""
    runtime_zero_shot: RuntimeOverride = ""
    runtime_fill_mask: RuntimeOverride = ""
    runtime_poem: RuntimeOverride = ""
    runtime_pos: RuntimeOverride = ""
    runtime_sentiment: RuntimeOverride = ""
    runtime_language: RuntimeOverride = ""
    runtime_transcribe: RuntimeOverride = ""

    # Logs
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("admin_users", "allowed_chats", "default_labels", "preload", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split(value)

    @field_validator(
        "generation_translate_es_en",
        "generation_translate_en_es",
        "generation_summarize",
        "generation_poem",
        "generation_transcribe",
        mode="before",
    )
    @classmethod
    def _generation_pairs(cls, value: object, info: ValidationInfo) -> object:
        return parse_generation(value, str(info.field_name).upper())

    @field_validator("runtime", *(f"runtime_{key}" for key in RUNTIME_KEYS), mode="before")
    @classmethod
    def _runtime_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("device")
    @classmethod
    def _device_known(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("auto", "cpu", "cuda") or (value.startswith("cuda:") and value[5:].isdigit()):
            return value
        raise ValueError("DEVICE must be auto, cpu, cuda or cuda:N")

    def model_for(self, key: str) -> str:
        """The hub id or folder configured for a task key ("" means the registry's default).

        The engine resolves the default, so this module never imports the engine.
        """
        value: str = getattr(self, f"model_{key}", "")
        return value

    def generation_for(self, key: str) -> dict[str, GenerationValue]:
        """The generation settings configured for a task key (GENERATION_<KEY>); {} if none."""
        value: dict[str, GenerationValue] = getattr(self, f"generation_{key}", {})
        return dict(value)

    def runtime_for(self, key: str) -> str:
        """The runtime asked for a task key: RUNTIME_<KEY>, else RUNTIME (auto, torch...)."""
        value: str = getattr(self, f"runtime_{key}", "") or self.runtime
        return value

    @property
    def converted_path(self) -> Path:
        """Where converted models are cached (CONVERTED_DIR, else DATA_DIR/converted)."""
        return self.converted_dir or self.data_dir / "converted"

    @property
    def group_memory_seconds(self) -> float:
        """How long /memoria keeps a message: GROUP_MEMORY_HOURS, never past DATA_RETENTION_DAYS."""
        hours = self.group_memory_hours
        if self.data_retention_days:
            hours = min(hours, self.data_retention_days * 24)
        return hours * 3600.0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "tertulia.sqlite3"

    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None
