"""Checks that the offline tiny models load through the Auto classes production uses."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoModelForSpeechSeq2Seq,
    AutoModelForTokenClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from bot.engine.registry import create_task
from tests import tiny_models

AUTO_CLASSES: dict[str, type] = {
    "translate_es_en": AutoModelForSeq2SeqLM,
    "translate_en_es": AutoModelForSeq2SeqLM,
    "summarize": AutoModelForSeq2SeqLM,
    "qa": AutoModelForQuestionAnswering,
    "zero_shot": AutoModelForSequenceClassification,
    "fill_mask": AutoModelForMaskedLM,
    "poem": AutoModelForCausalLM,
    "pos": AutoModelForTokenClassification,
    "sentiment": AutoModelForSequenceClassification,
    "language": AutoModelForSequenceClassification,
    "transcribe": AutoModelForSpeechSeq2Seq,
}
TEXT_KEYS = [key for key in tiny_models.TASK_KEYS if key != "transcribe"]
"""The stand-ins that read text; the speech one is run in tests/engine/test_transcription.py."""
SPANISH = "¿Dónde está la señora Núñez? ¡Compró 3 piñas en Córdoba el 12 de marzo!"
ENGLISH = "Where is the teacher? She bought 3 apples in London on March 12!"


@pytest.fixture
def tiny_root(request: pytest.FixtureRequest) -> dict[str, Path]:
    """The session's tiny models (tests/conftest.py), named apart from the `tiny_models` module."""
    folders: dict[str, Path] = request.getfixturevalue("tiny_models")
    return folders


def _load(folder: Path, key: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Load tokenizer and model the way the engine does: Auto classes on a local folder."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AUTO_CLASSES[key].from_pretrained(folder)
    model.eval()
    return tokenizer, model


def test_task_keys_cover_every_builder() -> None:
    """Every task key has a builder and an Auto class in this test, so none is forgotten."""
    assert set(tiny_models.TASK_KEYS) == set(AUTO_CLASSES)
    assert all(hasattr(tiny_models, f"build_{key}") for key in tiny_models.TASK_KEYS)


@pytest.mark.parametrize("key", TEXT_KEYS)
def test_tiny_model_loads_and_runs(tiny_root: dict[str, Path], key: str) -> None:
    """Each folder loads through AutoTokenizer + its Auto model and survives one forward pass."""
    tokenizer, model = _load(tiny_root[key], key)
    config = model.config
    assert len(tokenizer) == config.vocab_size
    assert tokenizer.pad_token_id == config.pad_token_id
    if key == "poem":
        assert tokenizer.pad_token is None  # none published: the engine pads with <|endoftext|>
        tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # decoder-only generation needs left padding in batches
    text = ENGLISH if key == "translate_en_es" else SPANISH  # the en->es source side is English
    encoded = tokenizer([text, "Hola."], padding=True, truncation=True, return_tensors="pt")
    assert tokenizer.unk_token_id not in encoded["input_ids"][0].tolist()
    decoded = tokenizer.decode(encoded["input_ids"][0], skip_special_tokens=True)
    assert decoded.replace(" ", "").lower() == text.replace(" ", "").lower()
    with torch.no_grad():
        if config.is_encoder_decoder:
            assert config.decoder_start_token_id == config.pad_token_id
            # The published lengths (84 or 512 tokens) are capped here to keep the test fast.
            generated = model.generate(**encoded, max_new_tokens=tiny_models.MAX_NEW_TOKENS)
            assert generated.shape[1] <= tiny_models.MAX_NEW_TOKENS + 1
        elif key == "poem":
            generated = model.generate(**encoded)
            assert generated.shape[1] == encoded["input_ids"].shape[1] + tiny_models.MAX_NEW_TOKENS
        else:
            output = model(**encoded)
            assert output[0].shape[0] == 2
    labels = tiny_models.fact_labels(tiny_models.load_facts(key))
    if labels:
        assert tuple(config.id2label[i] for i in range(config.num_labels)) == labels


@pytest.mark.parametrize("key", tiny_models.TASK_KEYS)
def test_the_engines_window_fits_the_position_table(tiny_root: dict[str, Path], key: str) -> None:
    """The window the engine derives never overflows positions; a published limit is kept."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_root[key])
    config = AutoConfig.from_pretrained(tiny_root[key])
    window = create_task(key).max_length(SimpleNamespace(config=config), tokenizer)
    # Whisper's decoder table is max_target_positions (its encoder reads 30 s of audio).
    positions = getattr(config, "max_position_embeddings", None) or getattr(
        config, "max_target_positions", None
    )
    if config.model_type in {"roberta", "xlm-roberta"}:
        assert window == positions - 2  # RoBERTa reserves padding_idx + 1 positions
    elif positions:
        assert window == positions
    else:  # mT5: relative positions, no table; still a finite, sensible limit
        assert window == 512
    published = tiny_models.load_facts(key)["tokenizer"]["model_max_length"]
    if published is not None:
        assert tokenizer.model_max_length == published


@pytest.mark.parametrize("key", ["zero_shot", "sentiment", "summarize"])
def test_build_is_deterministic(tmp_path: Path, key: str) -> None:
    """Two builds give byte-identical folders, so failures reproduce."""
    first = tiny_models.BUILDERS[key](tmp_path / "a")
    second = tiny_models.BUILDERS[key](tmp_path / "b")
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_offsets_and_word_ids_for_fast_tokenizers(tiny_root: dict[str, Path]) -> None:
    """QA needs offsets and POS needs word_ids: both tokenizers must be fast."""
    qa = AutoTokenizer.from_pretrained(tiny_root["qa"])
    encoded = qa("¿Dónde?", "Vive en Córdoba.", return_offsets_mapping=True)
    context = "Vive en Córdoba."
    pieces = [
        context[a:b]
        for (a, b), seq in zip(encoded["offset_mapping"], encoded.sequence_ids(), strict=True)
        if seq == 1
    ]
    assert "".join(pieces) == context.replace(" ", "")
    pos = AutoTokenizer.from_pretrained(tiny_root["pos"])
    assert pos.is_fast
    word_ids = pos("la señora Núñez").word_ids()
    assert word_ids[0] is None and word_ids[-1] is None
    assert max(w for w in word_ids if w is not None) == 2


def _answer(folder: Path, question: str, context: str, stride: int = 32) -> str:
    """Extractive QA over sliding windows, as the engine does for contexts longer than a window."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForQuestionAnswering.from_pretrained(folder)
    model.eval()
    encoded = tokenizer(
        question,
        context,
        truncation="only_second",
        max_length=tokenizer.model_max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="pt",
    )
    offsets = encoded.pop("offset_mapping")
    encoded.pop("overflow_to_sample_mapping")
    with torch.no_grad():
        output = model(**encoded)
    best: tuple[float, str] | None = None
    for window in range(encoded["input_ids"].shape[0]):
        in_context = torch.tensor([s == 1 for s in encoded.sequence_ids(window)])
        start = output.start_logits[window].masked_fill(~in_context, -1e9)
        end = output.end_logits[window].masked_fill(~in_context, -1e9)
        s, e = int(start.argmax()), int(end.argmax())
        score = float(start[s] + end[e])
        if s <= e and (best is None or score > best[0]):
            best = (score, context[int(offsets[window][s][0]) : int(offsets[window][e][1])])
    assert best is not None
    return best[1]


@pytest.mark.parametrize("word", ["Zaragoza", "pingüino"])
def test_controlled_qa_finds_word(tmp_path: Path, word: str) -> None:
    """The controlled QA model answers with the chosen word, wherever it sits in a short context."""
    folder = tiny_models.build_controlled_qa(tmp_path / "qa", word)
    question = "¿Cuál es la respuesta?"
    assert _answer(folder, question, f"{word} es la respuesta.") == word
    assert _answer(folder, question, f"La respuesta correcta es {word}, sin duda.") == word


@pytest.mark.parametrize("max_positions", [130, 514])
def test_controlled_qa_finds_word_in_long_context(tmp_path: Path, max_positions: int) -> None:
    """With ~600 context tokens the word near the end is found in a later window."""
    word = "Zaragoza"
    folder = tiny_models.build_controlled_qa(tmp_path / "qa", word, max_positions=max_positions)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.model_max_length == max_positions - 2
    rng = random.Random(7)
    filler: list[str] = []
    while len(tokenizer(" ".join(filler), add_special_tokens=False)["input_ids"]) < 600:
        filler.append(rng.choice([s for s in tiny_models.corpus() if word not in s]))
    context = " ".join(filler) + f" Al final fuimos a {word} en tren."
    n_tokens = len(tokenizer(context, add_special_tokens=False)["input_ids"])
    assert n_tokens > tokenizer.model_max_length
    assert _answer(folder, "¿Adónde fuimos?", context) == word


def test_controlled_qa_keeps_word_whole(tmp_path: Path) -> None:
    """The answer word is one token at the start of a text and after a space alike."""
    folder = tiny_models.build_controlled_qa(tmp_path / "qa", "Lima")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert len(tokenizer(" Lima", add_special_tokens=False)["input_ids"]) == 1
    assert len(tokenizer("Lima", add_special_tokens=False)["input_ids"]) == 1


def test_corrupt_folder_fails_to_load(tmp_path: Path) -> None:
    """The corrupt folder has a readable config and tokenizer but its weights cannot load."""
    folder = tiny_models.corrupt_model_folder(tmp_path / "broken")
    model_type = tiny_models.load_facts("zero_shot")["model_type"]
    assert AutoConfig.from_pretrained(folder).model_type == model_type
    AutoTokenizer.from_pretrained(folder)
    with pytest.raises(Exception):  # noqa: B017 - safetensors raises its own error type
        AutoModelForSequenceClassification.from_pretrained(folder)
