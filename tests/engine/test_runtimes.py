"""Runtimes: each converted model answers like torch float32, and conversions are cached safely.

float32 runtimes must give torch's results within float noise; int8 must keep the arg-max of
classification and tagging, measured on stand-ins whose heads were given a real margin (on the
random stand-ins every label scores about the same, so agreement there says nothing); greedy
generation must give torch's exact ids where the runtime searches the same way.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from bot.engine.loading import load_model, model_bytes
from bot.engine.registry import create_task
from bot.engine.results import QAInput, ZeroShotInput
from bot.engine.runtimes import (
    CTRANSLATE2,
    ONNXRUNTIME,
    RuntimePlan,
    cache,
    conversion_pending,
    estimate_bytes,
    onnx_encoders,
    plan_for,
)
from bot.engine.tasks.base import LoadedModel, Task
from tests.engine.harness import run_loaded
from tests.tiny_corpus import spanish_corpus

CPU = torch.device("cpu")
SENTENCES = spanish_corpus()[:40]


def load(key: str, folder: Path | str, plan: RuntimePlan | None) -> tuple[Task, LoadedModel]:
    task = create_task(key)
    return task, load_model(task, key, str(folder), CPU, torch.float32, plan=plan)


def plan(name: str, quantization: str, cache_dir: Path) -> RuntimePlan:
    return RuntimePlan(name, quantization, cache_dir, threads=1)


ENCODER_INPUTS: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "sentiment": (SENTENCES[:6], {}),
    "language": (SENTENCES[:6], {}),
    "pos": (SENTENCES[:6], {}),
    "zero_shot": ([ZeroShotInput(s, ("deportes", "cocina", "arte")) for s in SENTENCES[:4]], {}),
    "qa": ([QAInput("¿Dónde vive Ana?", " ".join(SENTENCES[:5]))], {}),
    "fill_mask": ([f"{s} <mask>." for s in SENTENCES[:4]], {"top_k": 3}),
}


def scores_of(result: Any) -> list[float]:
    """Every number a result carries, in a fixed order."""
    if hasattr(result, "labels"):
        return [label.score for label in result.labels]
    if hasattr(result, "words"):
        return [word.score for word in result.words]
    if hasattr(result, "masks"):
        return [c.score for mask in result.masks for c in mask]
    return [result.score]


def names_of(result: Any) -> list[Any]:
    """What a result says, without its scores."""
    if hasattr(result, "labels"):
        return sorted(label.label for label in result.labels)
    if hasattr(result, "words"):
        return [(w.word, w.start, w.end) for w in result.words]
    if hasattr(result, "masks"):
        return [len(mask) for mask in result.masks]
    return [result.text, result.start, result.end]


@pytest.mark.parametrize("key", list(ENCODER_INPUTS))
async def test_float32_onnx_equals_torch(
    key: str, tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    inputs, params = ENCODER_INPUTS[key]
    torch_results, _ = await run_loaded(load(key, tiny_models[key], None), inputs, **params)
    loaded = load(key, tiny_models[key], plan(ONNXRUNTIME, "float32", converted_dir))
    assert loaded[1].runtime == "onnxruntime float32"
    onnx_results, _ = await run_loaded(loaded, inputs, **params)
    for ours, theirs in zip(onnx_results, torch_results, strict=True):
        assert names_of(ours) == names_of(theirs)
        assert scores_of(ours) == pytest.approx(scores_of(theirs), abs=1e-5)


@pytest.mark.parametrize("key", list(ENCODER_INPUTS))
async def test_two_onnx_workers_answer_as_one_does(
    key: str, tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """With two threads a batch's rows are shared by two workers, each with its own padding:
    every result (QA and POS offsets, fill-mask's masks included) is what one worker gives."""
    inputs, params = ENCODER_INPUTS[key]
    if key == "qa":  # one question over many windows of different lengths
        inputs = [*inputs, QAInput("¿Qué come?", SENTENCES[7]), QAInput("¿Quién?", SENTENCES[9])]
    else:  # lengths from one word to a long sentence, in no order
        extra = {"zero_shot": [inputs[0]], "fill_mask": ["Sí <mask>."]}.get(key, ["Hola."])
        inputs = [*inputs, *extra]
    one = load(key, tiny_models[key], RuntimePlan(ONNXRUNTIME, "int8", converted_dir, 1))
    two = load(key, tiny_models[key], RuntimePlan(ONNXRUNTIME, "int8", converted_dir, 2))
    assert (one[1].model.workers, two[1].model.workers) == (1, 2)
    expected, _ = await run_loaded(one, inputs, **params)
    got, ctx = await run_loaded(two, inputs, **params)
    assert ctx.forward_calls and max(ctx.forward_calls) > 1  # a batch, shared by the workers
    for ours, theirs in zip(got, expected, strict=True):
        assert names_of(ours) == names_of(theirs)
        assert scores_of(ours) == pytest.approx(scores_of(theirs), abs=1e-5)
    if key == "fill_mask":  # the scores above are too alike to tell one mask from another
        batch = two[1].tokenizer(inputs, padding=True, return_tensors="pt")
        rows, cols = (batch["input_ids"] == two[1].tokenizer.mask_token_id).nonzero(as_tuple=True)
        where = (rows.tolist(), cols.tolist())
        alone, shared = (
            one[1].model.mask_logits(batch, *where),
            two[1].model.mask_logits(batch, *where),
        )
        assert torch.allclose(alone, shared, rtol=0, atol=1e-4)
        assert not torch.allclose(shared[0], shared[-1], rtol=0, atol=1e-3)


def trained_copy(key: str, source: Path, target: Path) -> Path:
    """A copy of a stand-in trained for a few steps to give each input a label of its own with
    a trained model's confidence; the random stand-ins score every label about the same, so
    int8 and float32 would only disagree on near-ties that mean nothing."""
    shutil.copytree(source, target)
    task = create_task(key)
    tokenizer = task.load_tokenizer(str(target))
    model = task.model_class.from_pretrained(target)
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=16, return_tensors="pt")
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    mask = batch["attention_mask"].bool()
    labels = model.config.num_labels
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(40):
        logits = model(**inputs).logits
        if logits.dim() == 3:  # a tag per token, from the token itself
            loss = F.cross_entropy(logits[mask], (batch["input_ids"][mask] * 7 + 3) % labels)
        else:  # a label per text, from its first word
            loss = F.cross_entropy(logits, batch["input_ids"][:, 1] % labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(target)
    return target


def argmax_rows(lm: LoadedModel, texts: list[str]) -> tuple[list[int], list[float]]:
    """Each row's best label and its probability (tokens for a tagger, texts otherwise)."""
    batch = lm.tokenizer(texts, padding=True, truncation=True, max_length=16, return_tensors="pt")
    with torch.inference_mode():
        logits = lm.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits
    if logits.dim() == 3:
        logits = logits[batch["attention_mask"].bool()]
    best = logits.softmax(-1).max(-1)
    return best.indices.tolist(), best.values.tolist()


@pytest.mark.parametrize("key", ["sentiment", "pos"])
def test_int8_keeps_the_argmax_of_a_trained_model(
    key: str, tiny_models: dict[str, Path], tmp_path: Path, converted_dir: Path
) -> None:
    folder = trained_copy(key, tiny_models[key], tmp_path / key)
    _, reference = load(key, folder, None)
    _, int8 = load(key, folder, plan(ONNXRUNTIME, "int8", converted_dir))
    expected, confidence = argmax_rows(reference, SENTENCES)  # the texts it was trained on
    got, _ = argmax_rows(int8, SENTENCES)
    agreement = sum(a == b for a, b in zip(expected, got, strict=True)) / len(expected)
    assert len(set(expected)) > 1 and sorted(confidence)[len(confidence) // 2] > 0.5
    assert agreement >= 0.99, f"int8 agrees with float32 on {agreement:.1%} of {len(expected)}"


def test_int8_scores_a_text_alike_alone_or_batched(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """Each token's activations get their own int8 scale: a louder, longer neighbour (and its
    padding) must not move a text's logits, as one scale for the whole batch would."""
    _, int8 = load("sentiment", tiny_models["sentiment"], plan(ONNXRUNTIME, "int8", converted_dir))
    text = min(SENTENCES, key=len)
    loud = " ".join(SENTENCES[1:6]).upper()

    def logits(texts: list[str]) -> torch.Tensor:
        batch = int8.tokenizer(
            texts, padding=True, truncation=True, max_length=16, return_tensors="pt"
        )
        return int8.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits

    alone, batched = logits([text])[0], logits([text, loud])[0]
    assert torch.allclose(alone, batched, rtol=0, atol=1e-5), (alone, batched)


def test_int8_on_the_random_stand_ins_only_flips_near_ties(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """Measured, not a target: every label of a random stand-in scores about the same."""
    _, reference = load("pos", tiny_models["pos"], None)
    _, int8 = load("pos", tiny_models["pos"], plan(ONNXRUNTIME, "int8", converted_dir))
    expected, confidence = argmax_rows(reference, spanish_corpus()[:120])
    got, _ = argmax_rows(int8, spanish_corpus()[:120])
    agreement = sum(a == b for a, b in zip(expected, got, strict=True)) / len(expected)
    assert max(confidence) < 0.2  # 17 tags, none above a fifth: near-ties everywhere
    assert agreement >= 0.9


GENERATION: dict[str, tuple[list[str], dict[str, Any]]] = {
    "translate_es_en": (SENTENCES[:5], {"num_beams": 1}),
    "translate_en_es": (["Hello, how are you?", "The cat eats fish."], {"num_beams": 1}),
    "summarize": ([" ".join(SENTENCES[:6])], {"num_beams": 1, "max_new_tokens": 12}),
    "poem": (
        ["Verde que te quiero verde,", "El mar", ""],
        {"do_sample": False, "max_new_tokens": 12},
    ),
}


@pytest.mark.parametrize("key", list(GENERATION))
async def test_float32_ctranslate2_greedy_equals_torch(
    key: str, tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    inputs, params = GENERATION[key]
    expected, _ = await run_loaded(load(key, tiny_models[key], None), inputs, **params)
    loaded = load(key, tiny_models[key], plan(CTRANSLATE2, "float32", converted_dir))
    assert loaded[1].runtime == "ctranslate2 float32"
    got, _ = await run_loaded(loaded, inputs, **params)
    assert got == expected


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("translate_es_en", {"num_beams": 1}),
        ("translate_es_en", {"num_beams": 3}),
        ("poem", {"do_sample": False, "max_new_tokens": 12}),
    ],
)
async def test_two_workers_answer_as_one_does(
    key: str, params: dict[str, Any], tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """With two threads a call's rows are shared by two CTranslate2 workers: same answers."""
    inputs = [*SENTENCES[:5], "El mar", ""] if key == "poem" else SENTENCES[:7]
    one = load(key, tiny_models[key], RuntimePlan(CTRANSLATE2, "int8", converted_dir, 1))
    two = load(key, tiny_models[key], RuntimePlan(CTRANSLATE2, "int8", converted_dir, 2))
    assert (one[1].model.workers, two[1].model.workers) == (1, 2)
    expected, _ = await run_loaded(one, inputs, **params)
    got, _ = await run_loaded(two, inputs, **params)
    assert got == expected


def test_two_workers_stream_each_rows_tokens_to_that_row(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """Steps come from both workers at once; each token still reaches its own row, in order."""
    _, lm = load("poem", tiny_models["poem"], RuntimePlan(CTRANSLATE2, "int8", converted_dir, 2))
    rows = [[5, 6, 7], [8, 9], [10, 11, 12, 13], [14]]
    width = max(map(len, rows))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    streamed: dict[int, list[int]] = {n: [] for n in range(len(rows))}

    class Streamer:
        def add_for(self, row: int) -> Any:
            return streamed[row].append

    out = lm.model.generate(ids, mask, max_new_tokens=8, streamer=Streamer())
    end = lm.model.published("eos_token_id", None)
    for n in range(len(rows)):
        new = out[n, width:].tolist()
        new = new[: new.index(end) + 1] if end in new else new
        assert streamed[n] == new and new


async def test_translation_keeps_each_pieces_own_limit(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """A row stops at its own limit in a batch with longer ones, greedy or beam search."""
    loaded = load(
        "translate_es_en", tiny_models["translate_es_en"], plan(CTRANSLATE2, "int8", converted_dir)
    )
    task, lm = loaded
    inputs = ["Hola.", " ".join(SENTENCES[:3]), "María come pan."]
    for beams in (1, 2):
        together, _ = await run_loaded(loaded, inputs, num_beams=beams)
        alone = [(await run_loaded(loaded, [text], num_beams=beams))[0][0] for text in inputs]
        assert together == alone
    features = task.preprocess(lm, inputs, task.parse_params({}).preprocess)
    limits = [f.meta["limit"] for f in features]
    with torch.inference_mode():
        rows = task.forward(lm, features, task.parse_params({"num_beams": 2}).forward)
    assert [len(row) for row in rows] == limits  # the random stand-in never stops by itself


async def test_seeded_poems_repeat_under_ctranslate2(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    loaded = load("poem", tiny_models["poem"], plan(CTRANSLATE2, "int8", converted_dir))
    first, _ = await run_loaded(loaded, ["El mar", "Verde"], seed=5, max_new_tokens=10)
    again, _ = await run_loaded(loaded, ["El mar"], seed=5, max_new_tokens=10)
    other, _ = await run_loaded(loaded, ["El mar", "Verde"], seed=6, max_new_tokens=10)
    assert first[0] == again[0] and first != other
    unseeded, _ = await run_loaded(loaded, ["El mar"] * 3, max_new_tokens=10)
    assert all(poem.new_tokens >= 1 for poem in unseeded)


class _CountingGenerator:
    """A CTranslate2 Generator that counts its calls."""

    def __init__(self, generator: Any) -> None:
        self.generator = generator
        self.calls = 0

    def generate_batch(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.generator.generate_batch(*args, **kwargs)


async def test_unseeded_poems_are_sampled_by_ctranslate2_in_one_call(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """/poema's draws need no seed: CTranslate2 samples the whole batch at once, in one call
    (seeded ones are drawn here, a call per draw that departs from the greedy token)."""
    _, lm = loaded = load("poem", tiny_models["poem"], plan(CTRANSLATE2, "int8", converted_dir))
    counting = _CountingGenerator(lm.model.generator)
    lm.model.generator = counting
    prompts = ["El mar", "Verde que te quiero verde", "La luna"]
    texts = set()
    for _ in range(3):
        poems, _ = await run_loaded(loaded, prompts, do_sample=True, max_new_tokens=10)
        assert all(p.text.startswith(q) for p, q in zip(poems, prompts, strict=True))
        assert all(poem.new_tokens >= 1 for poem in poems)
        texts.add(tuple(p.text for p in poems))
    assert counting.calls == 3 and len(texts) > 1  # one call each time, and drawn, not greedy
    counting.calls = 0
    await run_loaded(loaded, prompts, do_sample=True, seed=3, max_new_tokens=10)
    assert counting.calls >= len(prompts)


def test_dynamo_export_equals_torch(
    tiny_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exporter the bot uses (the suite's stand-ins use the faster tracer)."""
    monkeypatch.setattr(onnx_encoders, "EXPORTER", "dynamo")
    folder = tiny_models["sentiment"]
    _, reference = load("sentiment", folder, None)
    _, exported = load("sentiment", folder, plan(ONNXRUNTIME, "float32", tmp_path))
    batch = reference.tokenizer(SENTENCES[:5], padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = reference.model(**batch).logits
    got = exported.model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).logits
    assert torch.allclose(got, expected, atol=1e-5)


def test_conversions_are_cached_and_stale_or_corrupt_ones_rebuilt(
    tiny_models: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "model"
    shutil.copytree(tiny_models["sentiment"], source)
    int8 = plan(ONNXRUNTIME, "int8", tmp_path / "cache")
    assert conversion_pending(int8, str(source))
    with caplog.at_level(logging.INFO, logger="bot.engine.runtimes"):
        load("sentiment", source, int8)
        assert sum("converted" in r.message for r in caplog.records) == 1
        caplog.clear()
        load("sentiment", source, int8)  # the cache answers
        assert not any("converted" in r.message for r in caplog.records)
    [folder] = [p for p in (tmp_path / "cache").iterdir()]
    manifest = json.loads((folder / cache.MANIFEST).read_text())
    assert manifest["key"]["quantization"] == "int8" and manifest["key"]["revision"].startswith(
        "sha256:"
    )

    # Corrupt: a truncated file is noticed and rebuilt, not loaded.
    onnx_file = folder / onnx_encoders.MODEL_FILE
    onnx_file.write_bytes(onnx_file.read_bytes()[:100])
    assert conversion_pending(int8, str(source))
    _, lm = load("sentiment", source, int8)
    assert lm.runtime == "onnxruntime int8" and not conversion_pending(int8, str(source))

    # Stale: an edited model gets a new key, so a new conversion.
    config = json.loads((source / "config.json").read_text())
    config["id2label"] = {"0": "NEG", "1": "NEU", "2": "POS"}
    (source / "config.json").write_text(json.dumps(config))
    assert conversion_pending(int8, str(source))


def test_a_conversion_that_fails_runs_on_torch_with_one_log_line(
    tiny_models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(onnx_encoders, "convert", broken)
    with caplog.at_level(logging.WARNING):
        _, lm = load("sentiment", tiny_models["sentiment"], plan(ONNXRUNTIME, "int8", tmp_path))
    assert lm.runtime == "torch" and isinstance(lm.model, torch.nn.Module)
    [line] = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert "exporter exploded" in line and "running it on torch" in line


def test_memory_accounting_counts_the_converted_weights(
    tiny_models: dict[str, Path], converted_dir: Path
) -> None:
    """MODEL_MEMORY_MB holds: the budget sees the int8 copy, and the torch model it converts."""
    folder = str(tiny_models["language"])
    int8 = plan(ONNXRUNTIME, "int8", converted_dir)
    _, reference = load("language", folder, None)
    _, lm = load("language", folder, int8)
    converted = model_bytes(lm.model)
    assert 0 < converted < model_bytes(reference.model)
    # Before a load the budget makes room for the copy on disk, or for the torch model while
    # the copy still has to be converted from it.
    assert estimate_bytes(int8, folder, folder, torch.float32) >= converted
    fresh = plan(ONNXRUNTIME, "int8", converted_dir / "empty")
    torch_bytes = model_bytes(reference.model)
    assert estimate_bytes(fresh, folder, folder, torch.float32) >= torch_bytes * 0.9


def test_auto_picks_a_runtime_per_task_and_keeps_torch_on_cuda(tmp_path: Path) -> None:
    def chosen(key: str, device: str = "cpu", asked: str = "auto", dtype: str = "auto") -> str:
        return plan_for(asked, create_task(key), torch.device(device), dtype, tmp_path).label

    assert chosen("translate_es_en") == chosen("summarize") == chosen("poem") == "ctranslate2 int8"
    encoders = ("qa", "zero_shot", "fill_mask", "pos", "sentiment", "language")
    assert {chosen(key) for key in encoders} == {"onnxruntime int8"}
    assert chosen("qa", dtype="float32") == "onnxruntime float32"
    assert chosen("qa", "cuda:0") == chosen("poem", "cuda:0") == "torch"
    assert chosen("qa", asked="torch") == "torch"
    assert chosen("qa", asked="ctranslate2") == "torch"  # cannot serve an encoder head


async def test_the_engine_reports_the_runtime(make_settings: Any) -> None:
    from bot.engine import Engine

    engine = Engine(make_settings(runtime="torch", runtime_sentiment="onnxruntime"))
    try:
        await engine.run("sentiment", ["Hola"])
        await engine.run("language", ["Hola"])
        models = engine.status().models
    finally:
        await engine.close()
    assert models["language"].runtime == "torch"
    assert models["sentiment"].runtime == "onnxruntime int8"


def test_prefetch_builds_the_converted_copies(make_settings: Any, tmp_path: Path) -> None:
    from bot.engine.runtimes.prefetch import convert_models

    settings = make_settings(
        runtime="torch",
        runtime_sentiment="auto",
        runtime_poem="ctranslate2",
        converted_dir=tmp_path / "converted",
    )
    first = {key: outcome for key, _, outcome in convert_models(settings)}
    assert set(first) == {"sentiment", "poem"}
    assert first["sentiment"].startswith("onnxruntime int8 converted")
    assert first["poem"].startswith("ctranslate2 int8 converted")
    again = [outcome for _, _, outcome in convert_models(settings)]
    assert all(" cached: " in outcome for outcome in again)
