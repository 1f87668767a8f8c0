"""Poem generation: prompt kept whole, greedy batching-independent, seeded sampling repeatable."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from bot.engine.errors import InvalidInput
from bot.engine.results import GeneratedText
from bot.engine.tasks.base import Feature, LoadedModel, Task
from bot.engine.tasks.text_generation import TextGenerationTask
from tests.engine.harness import LoadedTasks, check_request, run_loaded

PROMPTS = ["Verde que te quiero verde,", "El mar", "Érase una vez un árbol que hablaba 😊", ""]
LONG_PROMPT = ("Caminante, no hay camino, se hace camino al andar. " * 400)[:20_000]


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> tuple[Task, LoadedModel]:
    return loaded_tasks.get("poem", TextGenerationTask)


async def test_text_is_prompt_then_continuation(loaded: tuple[Task, LoadedModel]) -> None:
    results, _ = await run_loaded(loaded, PROMPTS, max_new_tokens=12)
    assert len(results) == len(PROMPTS)
    for prompt, result in zip(PROMPTS, results, strict=True):
        assert isinstance(result, GeneratedText)
        assert result.prompt == prompt
        assert result.text.startswith(prompt)
        assert 0 <= result.new_tokens <= 12


async def test_greedy_batched_equals_one_by_one(loaded: tuple[Task, LoadedModel]) -> None:
    params = {"do_sample": False, "max_new_tokens": 20}
    together, _ = await run_loaded(loaded, PROMPTS, batch_size=4, **params)
    alone = [(await run_loaded(loaded, [p], batch_size=1, **params))[0][0] for p in PROMPTS]
    assert together == alone


async def test_seeded_sampling_repeats_in_any_batch(loaded: tuple[Task, LoadedModel]) -> None:
    prompts = PROMPTS[1:]
    first, _ = await run_loaded(loaded, prompts, seed=7, max_new_tokens=10)
    again = [(await run_loaded(loaded, [p], seed=7, max_new_tokens=10))[0][0] for p in prompts[:2]]
    assert first[:2] == again
    other, _ = await run_loaded(loaded, prompts, seed=8, max_new_tokens=10)
    assert first != other


async def test_unseeded_poems_are_drawn_in_one_generate_call(
    loaded: tuple[Task, LoadedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/poema's poems (no seed) from many chats share one batch; a seed runs each alone."""
    _, lm = loaded
    generate = lm.model.generate
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(kwargs.get("input_ids", args[0] if args else [])))
        return generate(*args, **kwargs)

    monkeypatch.setattr(lm.model, "generate", counting)
    prompts = PROMPTS[:3]
    drawn = []
    for _ in range(3):
        results, _ = await run_loaded(loaded, prompts, do_sample=True, max_new_tokens=12)
        for prompt, result in zip(prompts, results, strict=True):
            assert result.text.startswith(prompt) and 0 <= result.new_tokens <= 12
        drawn.append([r.text for r in results])
    assert calls == [3, 3, 3]
    assert len({tuple(texts) for texts in drawn}) > 1  # sampled, not greedy
    calls.clear()
    await run_loaded(loaded, prompts, do_sample=True, seed=5, max_new_tokens=12)
    assert calls == [1, 1, 1]


async def test_long_prompt_keeps_its_end_as_model_input(loaded: tuple[Task, LoadedModel]) -> None:
    _, lm = loaded
    task = TextGenerationTask()
    steps = task.parse_params({"max_new_tokens": 30})
    features = task.preprocess(lm, [LONG_PROMPT], steps.preprocess)
    assert features[0].length == lm.max_length - 30
    all_ids = lm.tokenizer(LONG_PROMPT, verbose=False)["input_ids"]
    assert features[0].input_ids == all_ids[-features[0].length :]
    (result,), _ = await run_loaded(loaded, [LONG_PROMPT], max_new_tokens=30, do_sample=False)
    assert result.text.startswith(LONG_PROMPT) and result.prompt == LONG_PROMPT


async def test_only_a_cut_prompt_is_truncated(loaded: tuple[Task, LoadedModel]) -> None:
    results, _ = await run_loaded(
        loaded, [LONG_PROMPT, *PROMPTS], max_new_tokens=30, do_sample=False
    )
    assert [r.truncated for r in results] == [True] + [False] * len(PROMPTS)


def test_generation_stops_at_end_of_text(
    loaded: tuple[Task, LoadedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    task, lm = loaded
    eos = lm.tokenizer.eos_token_id
    fixed = torch.tensor([[eos, 5, 6, 7, eos, 8], [3, 4, 9, eos, eos, eos]])
    monkeypatch.setattr(lm.model, "generate", lambda **kwargs: fixed)
    features = [Feature([eos, 5], meta={"eos": eos}), Feature([3, 4], meta={"eos": eos})]
    params = task.parse_params({"do_sample": False}).forward
    assert task.forward(lm, features, params) == [[6, 7], [9]]


def test_greedy_settings_ignore_sampling_knobs() -> None:
    task = TextGenerationTask()
    greedy = task.parse_params({"do_sample": False, "seed": 3, "temperature": 0.5}).forward
    assert greedy["seed"] is None and greedy["temperature"] is None
    defaults = task.parse_params({}).forward
    # Unset lengths and temperatures are the model's, read in the forward; sampling is the rule.
    assert defaults["max_new_tokens"] is None and defaults["temperature"] is None
    assert defaults["do_sample"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"max_new_tokens": 0},
        {"max_new_tokens": 201},
        {"max_new_tokens": True},
        {"temperature": 0},
        {"top_p": 1.5},
        {"seed": "42"},
        {"do_sample": 1},
        {"repetition_penalty": -1.0},
        {"beams": 4},
    ],
)
def test_validate_rejects_bad_parameters(params: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        check_request(TextGenerationTask(), ["Hola"], params)


def test_validate_rejects_non_text_prompts() -> None:
    with pytest.raises(InvalidInput):
        TextGenerationTask().validate("Hola")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        TextGenerationTask().validate([["Hola"]])
