"""Model folders for the benchmark: the real architectures' sizes with random weights, offline.

Timing does not depend on the weights' values, so each default model is rebuilt from its real
config numbers (hidden size, layers, heads, vocabulary) with random weights. The tokenizers are
the small offline ones of ``tests/tiny_models.py``: their ids all fit inside the real vocabulary,
and output-embedding rows beyond the tokenizer are zeroed so generation only picks decodable ids.
Generation lengths are pinned (``min_new_tokens`` = the requested ``max_new_tokens``) so runs
compare; the folders are cached under the output directory and rebuilt only when sizes change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import torch
from tokenizers import pre_tokenizers
from transformers import (
    AutoConfig,
    AutoTokenizer,
    BertTokenizer,
    ElectraConfig,
    GenerationConfig,
    GPT2Config,
    MarianConfig,
    MT5Config,
    PretrainedConfig,
    RobertaConfig,
    XLMRobertaConfig,
)

from bench import inputs
from bot.engine.registry import create_task
from bot.engine.tasks.zero_shot import DEFAULT_TEMPLATE
from tests import tiny_models, tiny_tokenizers

_ENCODER_BASE: dict[str, Any] = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
}

FULL_SIZES: dict[str, tuple[type[PretrainedConfig], dict[str, Any]]] = {
    # Recognai/zeroshot_selectra_medium: SELECTRA medium, a cased ELECTRA with 50000 pieces
    # (intermediate size not recorded: ELECTRA's 4 x hidden).
    "zero_shot": (
        ElectraConfig,
        {
            "hidden_size": 384,
            "embedding_size": 384,
            "num_hidden_layers": 12,
            "num_attention_heads": 6,
            "intermediate_size": 1536,
            "vocab_size": 50000,
            "max_position_embeddings": 512,
        },
    ),
    # PlanTL-GOB-ES/roberta-base-bne-sqac: RoBERTa base, 50262 byte-level BPE pieces.
    "qa": (
        RobertaConfig,
        {
            **_ENCODER_BASE,
            "vocab_size": 50262,
            "max_position_embeddings": 514,
            "type_vocab_size": 1,
        },
    ),
    # pysentimiento/robertuito-pos: RoBERTa base over tweets, 130 positions, 30002 pieces.
    "pos": (
        RobertaConfig,
        {
            **_ENCODER_BASE,
            "vocab_size": 30002,
            "max_position_embeddings": 130,
            "type_vocab_size": 1,
        },
    ),
    # pysentimiento/robertuito-sentiment-analysis: the same RoBERTuito base, three labels.
    "sentiment": (
        RobertaConfig,
        {
            **_ENCODER_BASE,
            "vocab_size": 30002,
            "max_position_embeddings": 130,
            "type_vocab_size": 1,
        },
    ),
    # Helsinki-NLP/opus-mt-es-en: Marian transformer-base, 6+6 layers, shared 65001 vocabulary.
    "translate_es_en": (
        MarianConfig,
        {
            "vocab_size": 65001,
            "decoder_vocab_size": 65001,
            "d_model": 512,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 8,
            "decoder_attention_heads": 8,
            "encoder_ffn_dim": 2048,
            "decoder_ffn_dim": 2048,
            "max_position_embeddings": 512,
            "activation_function": "swish",
            "scale_embedding": True,
        },
    ),
    # ismaelfaro/gpt2-poems.es: GPT-2 small.
    "poem": (
        GPT2Config,
        {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12},
    ),
    # csebuetnlp/mT5_multilingual_XLSum: mT5-base, untied 250112-piece LM head.
    "summarize": (
        MT5Config,
        {
            "vocab_size": 250112,
            "d_model": 768,
            "d_kv": 64,
            "d_ff": 2048,
            "num_layers": 12,
            "num_decoder_layers": 12,
            "num_heads": 12,
            "relative_attention_num_buckets": 32,
            "relative_attention_max_distance": 128,
            "feed_forward_proj": "gated-gelu",
            "tie_word_embeddings": False,
        },
    ),
    # papluca/xlm-roberta-base-language-detection: XLM-R base, 250002 pieces.
    "language": (
        XLMRobertaConfig,
        {
            **_ENCODER_BASE,
            "vocab_size": 250002,
            "max_position_embeddings": 514,
            "type_vocab_size": 1,
        },
    ),
    # xlm-roberta-base: the same encoder with its 250002-piece masked-word head.
    "fill_mask": (
        XLMRobertaConfig,
        {
            **_ENCODER_BASE,
            "vocab_size": 250002,
            "max_position_embeddings": 514,
            "type_vocab_size": 1,
        },
    ),
}
# Helsinki-NLP/opus-mt-en-es: the same Marian transformer-base as es-en, its own 65001 pieces.
FULL_SIZES["translate_en_es"] = FULL_SIZES["translate_es_en"]

# Ids and labels that must agree with the tokenizer, so they are taken from the tiny config.
_TOKENIZER_BOUND = (
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "decoder_start_token_id",
    "forced_eos_token_id",
    "id2label",
    "label2id",
)
_MODEL_FILES = ("config.json", "model.safetensors", "generation_config.json")
CORPUS_REPEATS = 3
"""The benchmark's own lines are repeated so the tokenizer trainers keep their whole words."""
STAND_IN_VOCAB = 3000
"""Pieces the stand-in tokenizers may learn (the tests' 400-700 split most words into letters)."""


def build_models(
    root: Path, keys: list[str], full_size: bool, new_tokens: dict[str, int]
) -> dict[str, Path]:
    """A model folder per task key under root (reused when already built with these sizes)."""
    return {key: _build(root / key, key, full_size, new_tokens.get(key)) for key in keys}


def _fingerprint(key: str, full_size: bool, new_tokens: int | None) -> str:
    """What a cached folder was built from; a change means a rebuild."""
    sizes = FULL_SIZES[key][1] if full_size else {"tiny": tiny_models.HIDDEN}
    words = hashlib.sha256("\n".join(_benchmark_lines()).encode()).hexdigest()[:16]
    facts = {"sizes": sizes, "new_tokens": new_tokens, "words": words, "version": 6}
    return json.dumps(facts, sort_keys=True)


def _build(folder: Path, key: str, full_size: bool, new_tokens: int | None) -> Path:
    """Tiny folder first (tokenizer and special ids), then the full-size model over it."""
    stamp = folder / "bench_fingerprint.json"
    fingerprint = _fingerprint(key, full_size, new_tokens)
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    with _benchmark_words():
        tiny_models.BUILDERS[key](folder)
    if key == "zero_shot":
        _add_whole_words(folder)
    model_class = create_task(key).model_class
    tiny = model_class.from_pretrained(folder)
    tokens = _tokenizer_size(folder)
    if tokens > tiny.config.vocab_size:
        tiny.resize_token_embeddings(tokens, mean_resizing=False)
    if full_size:
        config = _full_config(key, AutoConfig.from_pretrained(folder))
        if tokens > config.vocab_size:
            raise ValueError(f"{key}: {tokens} token ids do not fit {config.vocab_size} embeddings")
        torch.manual_seed(tiny_models.SEED)
        model = model_class.from_config(config)
        if getattr(tiny, "generation_config", None) is not None:
            model.generation_config = tiny.generation_config
    else:
        model = tiny
    model.eval()
    _silence_unknown_ids(model, tokens)
    if new_tokens is not None and getattr(model, "generation_config", None) is not None:
        _pin_generation_length(model.generation_config, new_tokens, minimum=key != "poem")
    for name in _MODEL_FILES:
        (folder / name).unlink(missing_ok=True)
    model.save_pretrained(folder)
    stamp.write_text(fingerprint, encoding="utf-8")
    return folder


def _benchmark_lines() -> list[str]:
    """Every Spanish line the benchmark sends, hypotheses included."""
    return [
        *inputs.SHORT_MESSAGES,
        *inputs.LONG_MESSAGES,
        *inputs.POEM_SHORT,
        *(f"{q} {c}" for q, c in inputs.QA_SHORT),
        *(DEFAULT_TEMPLATE.format(label) for label in inputs.ZERO_SHOT_LABELS),
    ]


@contextmanager
def _benchmark_words() -> Iterator[None]:
    """Train the stand-in tokenizers on the benchmark's Spanish too.

    The tiny corpus does not hold words like "ejemplo" or "tecnología", which the stand-ins then
    spell out piece by piece (the zero-shot hypothesis alone took 15-18 ids, against ~6 with the
    real BETO vocabulary); learning the benchmark's words keeps ids per word closer to the real
    30-250k vocabularies, so batch widths and padding look like production.
    """
    extra = _benchmark_lines() * CORPUS_REPEATS
    corpus, spanish = tiny_models.corpus, tiny_models.spanish_corpus
    with (
        mock.patch.object(tiny_models, "corpus", lambda: corpus() + extra),
        mock.patch.object(tiny_models, "spanish_corpus", lambda: spanish() + extra),
        _larger_vocab("_wordpiece_vocab"),
        _larger_vocab("_byte_level_bpe"),
        _larger_vocab("_train_sentencepiece"),
    ):
        yield


def _larger_vocab(helper: str) -> Any:
    """Patch one of tiny_tokenizers' trainers (lines, vocab_size, ...) to learn more pieces."""
    original = getattr(tiny_tokenizers, helper)

    def train(lines: Any, vocab_size: int, *args: Any, **kwargs: Any) -> Any:
        return original(lines, max(vocab_size, STAND_IN_VOCAB), *args, **kwargs)

    return mock.patch.object(tiny_tokenizers, helper, train)


def _full_config(key: str, tiny: PretrainedConfig) -> PretrainedConfig:
    """The real architecture's numbers, with the ids the tiny tokenizer needs."""
    config_class, sizes = FULL_SIZES[key]
    bound = {name: getattr(tiny, name) for name in _TOKENIZER_BOUND if hasattr(tiny, name)}
    return config_class(**sizes, **bound)


def _tokenizer_size(folder: Path) -> int:
    """How many ids the benchmark's tokenizer can produce (and decode)."""
    return len(AutoTokenizer.from_pretrained(folder))


def _add_whole_words(folder: Path) -> None:
    """Give the WordPiece stand-in the benchmark's whole words, as SELECTRA's 50k pieces have them.

    tiny_models' WordPiece never holds a word longer than one letter whole ("E ##ste"), which
    doubles ids per word; the zero-shot hypothesis would take 12 ids instead of BETO's ~6.
    """
    tokenizer = AutoTokenizer.from_pretrained(folder)
    vocab = dict(sorted(tokenizer.get_vocab().items(), key=lambda item: item[1]))
    splitter = pre_tokenizers.BertPreTokenizer()
    for line in _benchmark_lines():
        for word, _ in splitter.pre_tokenize_str(line):
            vocab.setdefault(word, len(vocab))
    whole = BertTokenizer(vocab=vocab, do_lower_case=False, strip_accents=False,
                          model_max_length=tokenizer.model_max_length)  # fmt: skip
    whole.save_pretrained(folder)


def _silence_unknown_ids(model: Any, tokens: int) -> None:
    """Zero output rows past the tokenizer, so greedy decoding never picks an undecodable id."""
    head = model.get_output_embeddings()
    if head is None:
        return
    with torch.no_grad():
        head.weight[tokens:] = 0.0
        bias = getattr(model, "final_logits_bias", None)
        if bias is not None:
            bias[:, tokens:] = -1e4


def _pin_generation_length(
    generation: GenerationConfig, new_tokens: int, minimum: bool = True
) -> None:
    """No end-of-text before `new_tokens`, so every request generates the same length.

    Poems get only the maximum: the real poem model publishes no minimum, and CTranslate2 can
    hold one per row only by running prompts of each length apart. A random model over the
    stand-in's few thousand pieces ends a 20-token poem early about once in 150 requests.
    """
    if minimum:
        generation.min_new_tokens = new_tokens
    generation.max_new_tokens = new_tokens
