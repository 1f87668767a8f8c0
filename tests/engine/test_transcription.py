"""Transcription: Whisper windows of 30 s, batched across requests, joined back in order.

Random weights say nothing useful, so these tests pin what a user would notice: one transcript
per clip, windows counted and joined in order, batching that changes nothing, a language that is
detected or taken as given, silence answered without a model, and bad input refused early.
They run under every runtime the suite is given (torch, and CTranslate2 under --runtime auto).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoFeatureExtractor, AutoModelForSpeechSeq2Seq, AutoTokenizer

from bot.config import Settings
from bot.engine import Engine, InvalidInput
from bot.engine.results import AudioInput, Transcription
from bot.engine.tasks.transcription import TranscriptionTask, window_count
from tests.engine.harness import check_request
from tests.tiny_models import load_facts

RATE = 16_000
CAP = {"max_new_tokens": 6}
"""Random weights rarely stop by themselves: a short cap keeps the tests fast."""


def noise(seconds: float, seed: int = 0) -> AudioInput:
    """Quiet noise: something to hear, nothing to understand."""
    rng = np.random.default_rng(seed)
    return AudioInput((0.1 * rng.standard_normal(int(seconds * RATE))).astype(np.float32))


@pytest.fixture
def make_engine(make_settings: Callable[..., Settings]) -> Callable[..., Engine]:
    return lambda **overrides: Engine(make_settings(**overrides))


def test_the_stand_in_has_whispers_prompt_tokens_and_feature_extractor(
    tiny_models: dict[str, Path],
) -> None:
    folder = tiny_models["transcribe"]
    facts = load_facts("transcribe")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    extractor = AutoFeatureExtractor.from_pretrained(folder)
    generation = json.loads((folder / "generation_config.json").read_text())
    for token, published in facts["tokenizer"]["special_token_ids"].items():
        assert tokenizer.convert_tokens_to_ids(token) == published, token
    assert generation["lang_to_id"]["<|es|>"] == facts["whisper"]["lang_to_id_examples"]["<|es|>"]
    assert len(generation["lang_to_id"]) == facts["whisper"]["languages"]
    assert generation["task_to_id"] == facts["whisper"]["task_to_id"]
    published = facts["whisper"]["feature_extractor"]
    assert type(extractor).__name__ == published["class"]
    assert (extractor.feature_size, extractor.sampling_rate) == (80, RATE)
    assert extractor.n_samples == published["n_samples"]
    # The tokenizer writes Whisper's own prompt when asked for Spanish transcription.
    tokenizer.set_prefix_tokens(language="es", task="transcribe")
    names = ["<|startoftranscript|>", "<|es|>", "<|transcribe|>", "<|notimestamps|>"]
    assert tokenizer.prefix_tokens == tokenizer.convert_tokens_to_ids(names)
    model = AutoModelForSpeechSeq2Seq.from_pretrained(folder)
    mel = extractor(noise(2).samples, sampling_rate=RATE, return_tensors="pt").input_features
    with torch.inference_mode():
        logits = model(input_features=mel, decoder_input_ids=torch.tensor([[50258]])).logits
    assert logits.shape == (1, 1, len(tokenizer))


async def test_clips_from_many_requests_share_batches_and_match_lone_runs(
    make_engine: Callable[..., Engine], runtime: str
) -> None:
    clips = [noise(3, 1), noise(45, 2), noise(70, 3)]  # 1, 2 and 3 windows
    engine = make_engine(batch_wait_ms=300)
    try:
        together = await asyncio.gather(*(engine.run("transcribe", [c], **CAP) for c in clips))
        status = engine.status().models["transcribe"]
        alone = [await engine.run("transcribe", [clip], **CAP) for clip in clips]
    finally:
        await engine.close()
    assert status.loaded and status.batches < 6 and (status.mean_batch_size or 0) > 1
    # RUNTIME=auto on the CPU converts Whisper for CTranslate2 (int8), as it does Marian.
    assert status.runtime == ("torch" if runtime == "torch" else "ctranslate2 int8")
    for [batched], [single], clip in zip(together, alone, clips, strict=True):
        assert isinstance(batched, Transcription)
        assert batched == single
        assert batched.chunks == window_count(clip.samples)
        assert batched.language.isalpha()  # detected: one of Whisper's language codes
        assert batched.truncated  # random weights run to the cap


async def test_a_given_language_is_used_and_an_unknown_one_refused(
    make_engine: Callable[..., Engine],
) -> None:
    engine = make_engine()
    try:
        [spanish] = await engine.run("transcribe", [noise(2)], language="es", **CAP)
        [english] = await engine.run("transcribe", [noise(2)], language="en", **CAP)
        [beams] = await engine.run("transcribe", [noise(2)], num_beams=2, **CAP)
        with pytest.raises(InvalidInput):
            await engine.run("transcribe", [noise(2)], language="xx", **CAP)
        with pytest.raises(InvalidInput):
            await engine.run("transcribe", [noise(2)], language="es-ES")
    finally:
        await engine.close()
    assert (spanish.language, english.language) == ("es", "en")
    assert isinstance(beams, Transcription) and beams.chunks == 1


async def test_silence_is_answered_without_loading_the_model(
    make_engine: Callable[..., Engine],
) -> None:
    engine = make_engine()
    try:
        [quiet] = await engine.run("transcribe", [AudioInput(np.zeros(40 * RATE, np.float32))])
        loaded = engine.status().models["transcribe"].loaded
    finally:
        await engine.close()
    assert quiet == Transcription("", chunks=2)
    assert not loaded


@pytest.mark.parametrize(
    "bad",
    [
        "hola",
        AudioInput(np.zeros(0, np.float32)),
        AudioInput(np.zeros((2, 100), np.float32)),
        AudioInput([0.1, 0.2]),
        AudioInput(np.ones(100, np.float32), sampling_rate=44_100),
    ],
    ids=["text", "empty", "stereo", "list", "44.1 kHz"],
)
def test_malformed_clips_are_refused_before_a_model_loads(bad: object) -> None:
    with pytest.raises(InvalidInput):
        check_request(TranscriptionTask(), [bad], {})


@pytest.mark.parametrize(
    "params",
    [{"num_beams": 9}, {"max_new_tokens": 0}, {"language": 3}, {"temperature": 0.5}],
    ids=str,
)
def test_bad_parameters_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        check_request(TranscriptionTask(), [noise(1)], params)


def test_windows_are_whispers_thirty_seconds() -> None:
    assert [window_count(np.zeros(n)) for n in (1, 30 * RATE, 30 * RATE + 1, 95 * RATE)] == [
        1,
        1,
        2,
        4,
    ]
