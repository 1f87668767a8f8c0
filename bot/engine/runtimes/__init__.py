"""Runtimes: which library runs a task's model, chosen per task and device.

``torch`` runs the transformers model as loaded. ``ctranslate2`` (translation, summaries,
poems, transcription) and ``onnxruntime`` (the encoder tasks) run a converted copy, cached on disk
(``cache.py``). A converted model stands in for the transformers model object that the task's
``forward`` calls, answering ``model(**batch)`` or ``model.generate(...)`` with the same tensors,
so preprocess, the batching queue, postprocess and the result types never know which one ran.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from bot.engine.runtimes import cache

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine.tasks.base import Task

log = logging.getLogger(__name__)

TORCH = "torch"
CTRANSLATE2 = "ctranslate2"
ONNXRUNTIME = "onnxruntime"
AUTO = "auto"

_FAMILIES = {
    "AutoModelForSeq2SeqLM": "seq2seq",
    "AutoModelForCausalLM": "causal",
    "AutoModelForSequenceClassification": "encoder",
    "AutoModelForTokenClassification": "encoder",
    "AutoModelForQuestionAnswering": "encoder",
    "AutoModelForMaskedLM": "encoder",
    "AutoModelForSpeechSeq2Seq": "speech",
}
_SERVES = {CTRANSLATE2: {"seq2seq", "causal", "speech"}, ONNXRUNTIME: {"encoder"}}


@dataclass(frozen=True)
class RuntimePlan:
    """How one task's model runs: the library, its weights' type, and where conversions live."""

    name: str = TORCH
    quantization: str = ""
    """int8, float16, bfloat16 or float32 for a converted model; "" for torch."""
    cache_dir: Path | None = None
    threads: int = 0
    """Intra-op threads of the runtime (TORCH_THREADS); 0 lets it decide."""

    @property
    def label(self) -> str:
        return f"{self.name} {self.quantization}".strip()


def model_family(task: Task) -> str:
    """seq2seq, causal or encoder, from the task's transformers class; "" for anything else."""
    return _FAMILIES.get(getattr(task.model_class, "__name__", ""), "")


def plan_for(
    asked: str,
    task: Task,
    device: torch.device,
    dtype_setting: str,
    cache_dir: Path,
    threads: int = 0,
) -> RuntimePlan:
    """The runtime a task gets: RUNTIME (or RUNTIME_<KEY>) resolved for its model and device.

    ``auto`` keeps torch on CUDA: half-precision torch is the GPU baseline and no faster runtime
    has been measured on a GPU here. On the CPU it picks CTranslate2 for generation and ONNX
    Runtime for encoders. A runtime asked for a task it cannot serve falls back to torch.
    """
    family = model_family(task)
    if asked == AUTO:
        if device.type != "cpu":
            return RuntimePlan()
        asked = next((name for name, serves in _SERVES.items() if family in serves), TORCH)
    if asked == TORCH:
        return RuntimePlan()
    if family not in _SERVES.get(asked, set()):
        log.warning("%s cannot run a %s model: running it on torch", asked, family or "custom")
        return RuntimePlan()
    if asked == ONNXRUNTIME and device.type != "cpu":
        log.warning("onnxruntime is installed for the CPU only: running on torch on %s", device)
        return RuntimePlan()
    return RuntimePlan(asked, quantization(device, dtype_setting), cache_dir, threads)


def plan_from_settings(
    settings: Settings, key: str, task: Task, device: torch.device
) -> RuntimePlan:
    """A task key's plan from RUNTIME / RUNTIME_<KEY>, DTYPE, CONVERTED_DIR and TORCH_THREADS."""
    return plan_for(
        settings.runtime_for(key),
        task,
        device,
        settings.dtype,
        settings.converted_path,
        settings.torch_threads,
    )


def quantization(device: torch.device, dtype_setting: str) -> str:
    """int8 on the CPU (float32 with DTYPE=float32); on a GPU, the dtype torch uses there
    (settled at load, where the model's type is known: mT5 never runs in float16)."""
    if device.type == "cpu":
        return "float32" if dtype_setting == "float32" else "int8"
    return dtype_setting if dtype_setting in ("float32", "bfloat16") else "float16"


def conversion_key(plan: RuntimePlan, model_id: str, folder: Path) -> cache.ConversionKey:
    """The cache key of a model's converted copy under this plan."""
    return cache.ConversionKey(
        model_id=model_id,
        revision=cache.model_revision(folder),
        runtime=plan.name,
        quantization=plan.quantization,
        converter=_converter_version(plan.name),
    )


def _converter_version(name: str) -> str:
    if name == CTRANSLATE2:
        from bot.engine.runtimes.ctranslate2_models import converter_version
    else:
        from bot.engine.runtimes.onnx_encoders import converter_version
    return f"{converter_version()} format-{cache.FORMAT}"


def _source_folder(model_id: str, source: str | None) -> Path | None:
    from bot.engine.loading import local_folder

    return Path(source) if source and Path(source).is_dir() else local_folder(model_id)


def converted_folder(plan: RuntimePlan, model_id: str, source: str | None = None) -> Path | None:
    """The complete converted copy of a model under this plan, or None if it must be built."""
    if plan.name == TORCH or plan.cache_dir is None:
        return None
    folder = _source_folder(model_id, source)
    if folder is None:
        return None
    try:
        return cache.cached_folder(plan.cache_dir, conversion_key(plan, model_id, folder))
    except OSError:
        return None


def conversion_pending(plan: RuntimePlan, model_id: str, source: str | None = None) -> bool:
    """Whether loading under this plan has to convert first (and so load the torch model)."""
    return plan.name != TORCH and converted_folder(plan, model_id, source) is None


def estimate_bytes(plan: RuntimePlan | None, model_id: str, source: str, dtype: torch.dtype) -> int:
    """Memory to make room for before a load: the torch model's while it must be converted
    (the conversion holds it), else the converted copy's files."""
    from bot.engine.loading import estimate_bytes as torch_estimate

    converted = converted_folder(plan, model_id, source) if plan is not None else None
    if converted is None:
        return torch_estimate(source, dtype)
    return sum(p.stat().st_size for p in converted.iterdir() if p.is_file())


def prepare(plan: RuntimePlan, task: Task, model_id: str, source: str | None = None) -> Path:
    """The converted folder for a model, converting it now if the cache has none (blocking)."""
    assert plan.cache_dir is not None
    folder = _source_folder(model_id, source) or _download(model_id)
    key = conversion_key(plan, model_id, folder)
    if plan.name == CTRANSLATE2:
        from bot.engine.runtimes.ctranslate2_models import convert
    else:
        from bot.engine.runtimes.onnx_encoders import convert
    converted, built = cache.ensure(
        plan.cache_dir, key, lambda out: convert(task, str(folder), out, plan.quantization)
    )
    if built:
        log.info("converted %s for %s into %s", model_id, plan.label, converted)
    return converted


def load_runtime_model(
    plan: RuntimePlan | None,
    task: Task,
    model_id: str,
    source: str,
    config: Any,
    device: torch.device,
    dtype: torch.dtype,
) -> Any | None:
    """The converted stand-in for the transformers model, or None to load it on torch.

    A conversion or load that fails costs one log line and the request runs on torch.
    """
    if plan is None or plan.name == TORCH:
        return None
    if device.type != "cpu":  # the dtype torch would use there, mT5's exceptions included
        plan = replace(plan, quantization=str(dtype).removeprefix("torch."))
    try:
        return _load_converted(plan, task, model_id, source, config, device)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        log.warning(
            "%s cannot run %s (%s: %s): running it on torch",
            plan.label,
            model_id,
            type(exc).__name__,
            reason,
        )
        return None


def _load_converted(
    plan: RuntimePlan, task: Task, model_id: str, source: str, config: Any, device: torch.device
) -> Any:
    """Load the conversion; a cached copy that fails to load is converted once more."""
    if plan.name == CTRANSLATE2:
        from bot.engine.runtimes.ctranslate2_models import load
    else:
        from bot.engine.runtimes.onnx_encoders import load
    folder = prepare(plan, task, model_id, source)
    try:
        model = load(folder, config, model_id, plan, device)
    except Exception as exc:
        log.warning("converted copy %s does not load (%s): converting again", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
        model = load(prepare(plan, task, model_id, source), config, model_id, plan, device)
    model.runtime = plan.label
    return model


def _download(model_id: str) -> Path:
    """Fetch a hub model that is not on disk yet, as a torch load would."""
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.spm", "*.codes", "vocab.*"]
    return Path(snapshot_download(model_id, allow_patterns=patterns))
