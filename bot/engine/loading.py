"""Loading a task's model and tokenizer from a hub id or a local folder, and measuring it."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import torch

from bot.engine.downloads import WEIGHT_SUFFIXES, cached_folder
from bot.engine.registry import HALF_PRECISION_UNSAFE, ModelTraits, task_keys, traits_for
from bot.engine.runtimes import RuntimePlan, load_runtime_model
from bot.engine.tasks.base import LoadedModel, Task
from bot.engine.tasks.generation import lengths_as_new_tokens


def resolve_device(setting: str) -> torch.device:
    """DEVICE=auto picks the first GPU when there is one."""
    if setting == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    device = torch.device(setting)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"DEVICE={setting} but no CUDA device is available")
        if device.index is None:  # "cuda" means the current GPU; name it, set_device needs one
            device = torch.device("cuda", torch.cuda.current_device())
    return device


def resolve_dtype(setting: str, device: torch.device) -> torch.dtype:
    """DTYPE=auto: half precision on CUDA, float32 on the CPU."""
    if setting == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[setting]


def bfloat16_native(device: torch.device) -> bool:
    """GPUs compute in bfloat16 from Ampere (compute capability 8.0) on; older ones emulate it."""
    if device.type != "cuda":
        return False
    return torch.cuda.get_device_capability(device) >= (8, 0)


def model_dtype(dtype: torch.dtype, model_type: str, device: torch.device) -> torch.dtype:
    """The engine's dtype, except float16 for a model that overflows in it (mT5, T5).

    Such a model gets bfloat16 (float32's range) where the GPU computes in it, else float32.
    """
    if dtype != torch.float16 or model_type not in HALF_PRECISION_UNSAFE:
        return dtype
    return torch.bfloat16 if bfloat16_native(device) else torch.float32


def local_folder(model_id: str) -> Path | None:
    """The folder holding a model's files when it is on disk (a path or the HF cache)."""
    path = Path(model_id).expanduser()
    if path.is_dir():
        return path
    return cached_folder(model_id)


def estimate_bytes(model_id: str, dtype: torch.dtype) -> int:
    """Weight bytes a model will take once loaded, from its files; 0 when unknown."""
    folder = local_folder(model_id)
    if folder is None:
        return 0
    files = [p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES]
    if any(p.suffix == ".safetensors" for p in files):
        files = [p for p in files if p.suffix == ".safetensors"]
    on_disk = sum(p.stat().st_size for p in files)
    # Checkpoints are mostly float32; loading in half precision halves them.
    return on_disk * torch.finfo(dtype).bits // 32 if dtype.is_floating_point else on_disk


def model_bytes(model: Any) -> int:
    """Measured bytes of a model's parameters and buffers (a runtime's: its weight files)."""
    if (converted := getattr(model, "memory_bytes", None)) is not None:
        return int(converted)
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    return int(total)


def load_model(
    task: Task,
    key: str,
    model_id: str,
    device: torch.device,
    dtype: torch.dtype,
    source: str | None = None,
    plan: RuntimePlan | None = None,
) -> LoadedModel:
    """Load tokenizer and model (blocking: call from a worker thread).

    `source` is the folder the files are in (bot/engine/downloads.py), when not `model_id`.
    `plan` may run it on a converted copy instead of torch (bot/engine/runtimes).
    """
    from transformers import AutoConfig

    source = source or model_id
    tokenizer = task.load_tokenizer(source)
    config = AutoConfig.from_pretrained(source)
    dtype = model_dtype(dtype, config.model_type, device)
    model = load_runtime_model(plan, task, model_id, source, config, device, dtype)
    if model is None:
        model = task.model_class.from_pretrained(source, config=config, dtype=dtype)
        model.to(device)
        model.eval()
    lengths_as_new_tokens(model)
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = getattr(model.config, "pad_token_id", None)
    if pad_id is None:
        pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    return LoadedModel(
        key=key,
        model_id=model_id,
        model=model,
        tokenizer=tokenizer,
        device=device,
        dtype=dtype,
        pad_token_id=int(pad_id),
        max_length=task.max_length(model, tokenizer),
        traits=traits_for(key, model_id) if key in task_keys() else ModelTraits(),
        runtime=getattr(model, "runtime", "torch"),
    )


def release(lm: LoadedModel) -> None:
    """Drop a model; on CUDA, collect and return its memory to the device for real.

    On the CPU dropping the last reference frees the weights; a full collection there would
    cost a noticeable pause for nothing.
    """
    device = lm.device
    lm.model = None
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
