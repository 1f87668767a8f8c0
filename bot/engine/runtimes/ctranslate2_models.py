"""CTranslate2 for translation, summaries and poems: ``generate`` as the tasks call it.

The stand-ins take the arguments the tasks pass to transformers' ``generate`` and return the
same tensors (decoder start + ids for an encoder-decoder, prompt + new ids for a decoder-only
model), applying the model's own generation config (``no_repeat_ngram_size``,
``length_penalty``, ``repetition_penalty``, ``bad_words_ids``, ``min_new_tokens``) as
``generate`` would.

How each stand-in keeps the tasks' semantics (per-row limits, seeded sampling) is told in
``ctranslate2_seq2seq.py`` and ``ctranslate2_causal.py``.

Threads on the CPU: one worker per thread (``inter_threads``), each running its share of a
call's rows on one core (``intra_threads=1``), instead of one worker splitting every step's
small matrix products across the cores. Decoding runs thousands of small steps, and waking a
second thread for each cost more than it gave: measured on the 2-core CPU with the Marian
model, a lone 4-beam translation took 573 ms on one worker of two threads and 119 ms on two
workers of one, a batch of 32 1,336 ms and 844 ms. The workers share the weights (no extra
memory). Whisper keeps one worker: a clip's encoder is one large product that two threads
share well.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from bot.engine.runtimes.ctranslate2_causal import Ct2Causal
from bot.engine.runtimes.ctranslate2_seq2seq import Ct2Seq2Seq

if TYPE_CHECKING:
    from bot.engine.runtimes import RuntimePlan
    from bot.engine.tasks.base import Task


def converter_version() -> str:
    import ctranslate2

    return f"ctranslate2-{ctranslate2.__version__}"


def convert(task: Task, source: str, out: Path, quantization: str) -> None:
    """CTranslate2's own converter for transformers models, into ``out``.

    A model whose embedding has more rows than its tokenizer has pieces (rows kept for
    alignment, or the benchmark's stand-ins) gets placeholder tokens for the extra rows, which
    the converter otherwise refuses; the tokenizer never produces them.
    """
    from ctranslate2.converters import TransformersConverter
    from ctranslate2.converters.transformers import ModelLoader

    original = ModelLoader.__call__

    def padded(loader: Any, model: Any, tokenizer: Any) -> Any:
        spec = loader.get_model_spec(model)
        loader.set_config(spec.config, model, tokenizer)
        tokens = loader.get_vocabulary(model, tokenizer)
        rows = _embedding_rows(spec)
        if rows is not None and rows > len(tokens):
            tokens = [*tokens, *(f"<unused_{i}>" for i in range(rows - len(tokens)))]
        loader.set_vocabulary(spec, tokens)
        return spec

    with _CONVERTING:  # the patch is process-wide: one conversion at a time
        ModelLoader.__call__ = padded  # type: ignore[method-assign]
        try:
            TransformersConverter(source, low_cpu_mem_usage=True).convert(
                str(out), quantization=quantization, force=True
            )
        finally:
            ModelLoader.__call__ = original  # type: ignore[method-assign]


_CONVERTING = threading.Lock()


def _embedding_rows(spec: Any) -> int | None:
    """Rows of the (decoder's) embedding in a converter's model spec."""
    embeddings = getattr(getattr(spec, "decoder", None), "embeddings", None)
    if isinstance(embeddings, list):
        embeddings = embeddings[0]
    weight = getattr(embeddings, "weight", None)
    return int(weight.shape[0]) if weight is not None and hasattr(weight, "shape") else None


def load(folder: Path, config: Any, model_id: str, plan: RuntimePlan, device: Any) -> Any:
    """A Translator or Generator on the converted model, with the model's generation config."""
    import ctranslate2

    cpu = device.type != "cuda"
    threads = plan.threads or torch.get_num_threads()
    workers = threads if cpu and config.model_type != "whisper" else 1
    options = {
        "device": "cpu" if cpu else "cuda",
        "device_index": device.index or 0,
        "compute_type": plan.quantization,
        "inter_threads": workers,
        "intra_threads": 1 if workers > 1 else threads,
    }
    generation = _generation_config(model_id, config)
    size = (folder / "model.bin").stat().st_size
    if config.model_type == "whisper":
        from bot.engine.runtimes.ctranslate2_whisper import Ct2Whisper

        whisper = ctranslate2.models.Whisper(str(folder), **options)
        return Ct2Whisper(whisper, _vocabulary(folder, ""), config, generation, size)
    if config.is_encoder_decoder:
        translator = ctranslate2.Translator(str(folder), **options)
        target = _vocabulary(folder, "target")
        return Ct2Seq2Seq(translator, target, config, generation, size, workers)
    generator = ctranslate2.Generator(str(folder), **options)
    settings = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    vocabulary = _vocabulary(folder, "")
    return Ct2Causal(
        generator,
        vocabulary,
        config,
        generation,
        size,
        workers,
        start_token=settings.get("bos_token"),
    )


def _generation_config(model_id: str, config: Any) -> Any:
    """The model's generation config, derived from its config where it publishes none."""
    from transformers import GenerationConfig

    from bot.engine.loading import local_folder

    try:  # from the files on disk: a hub id would ask the hub, which may not answer
        return GenerationConfig.from_pretrained(local_folder(model_id) or model_id)
    except OSError:
        return GenerationConfig.from_model_config(config)


def _vocabulary(folder: Path, side: str) -> list[str]:
    """The converted model's tokens in id order (shared, or one side's)."""
    names = [f"{side}_vocabulary", "shared_vocabulary", "vocabulary"] if side else ["vocabulary"]
    for name in names:
        path = folder / f"{name}.json"
        if path.is_file():
            tokens: list[str] = json.loads(path.read_text(encoding="utf-8"))
            return tokens
        text = folder / f"{name}.txt"
        if text.is_file():
            return text.read_text(encoding="utf-8").split("\n")[:-1]
    raise FileNotFoundError(f"no vocabulary in {folder}")
