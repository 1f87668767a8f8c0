"""Fill-mask: the three blank spellings, candidate hygiene, long texts, batching, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.registry import create_task
from bot.engine.results import FillMaskResult, MaskCandidate
from bot.engine.tasks.base import LoadedModel
from bot.engine.tasks.fill_mask import MAX_MASKS, MAX_TOP_K, FillMaskTask
from tests.engine.harness import LoadedTasks, check_request, run_direct, run_loaded

Loaded = tuple[FillMaskTask, LoadedModel]
FILLER = "María come una manzana en la cocina. El profesor lee el periódico por la tarde. "
LONG = FILLER * 120  # about 10,000 characters, far beyond the 512-token window


@pytest.fixture
def loaded(loaded_tasks: LoadedTasks) -> Loaded:
    return loaded_tasks.get("fill_mask", FillMaskTask)


def assert_well_formed(
    loaded: Loaded, result: FillMaskResult, text: str, masks: int, top_k: int
) -> None:
    """One ranked list per mask; real, stripped words; each filled into its own blank."""
    specials = set(loaded[1].tokenizer.all_special_tokens)
    assert isinstance(result, FillMaskResult)
    assert len(result.masks) == masks
    for candidates in result.masks:
        assert 1 <= len(candidates) <= top_k
        assert all(isinstance(c, MaskCandidate) for c in candidates)
        scores = [c.score for c in candidates]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
        for c in candidates:
            assert c.token and c.token == c.token.strip() and c.token not in specials
            assert c.token in c.sequence
            assert len(c.sequence) < len(text) + len(c.token)


async def test_one_mask_through_the_production_loader(
    tiny_models: dict[str, Path], loaded: Loaded
) -> None:
    text = "Me gusta mucho el <mask> de mi abuela."
    [result] = await run_direct("fill_mask", str(tiny_models["fill_mask"]), [text])
    assert_well_formed(loaded, result, text, masks=1, top_k=5)
    assert len(result.masks[0]) == 5
    assert result.truncated is False
    for c in result.masks[0]:
        assert c.sequence == text.replace("<mask>", c.token)


@pytest.mark.parametrize("blank", ["[MASK]", "___", "_____", "<MASK>", "[mask]"])
async def test_every_mask_spelling_means_the_same(loaded: Loaded, blank: str) -> None:
    (reference, spelled), _ = await run_loaded(
        loaded,
        ["Me gusta mucho el <mask> de mi abuela.", f"Me gusta mucho el {blank} de mi abuela."],
    )
    assert [(c.token, c.sequence) for c in spelled.masks[0]] == [
        (c.token, c.sequence) for c in reference.masks[0]
    ]
    assert [c.score for c in spelled.masks[0]] == pytest.approx(
        [c.score for c in reference.masks[0]], abs=1e-6
    )


async def test_several_masks_keep_the_others_as_written(loaded: Loaded) -> None:
    text = "[MASK] vive en ___ con <mask>."
    [result], _ = await run_loaded(loaded, [text], top_k=3)
    assert_well_formed(loaded, result, text, masks=3, top_k=3)
    first, second, third = result.masks
    assert all(c.sequence == f"{c.token} vive en ___ con <mask>." for c in first)
    assert all(c.sequence == f"[MASK] vive en {c.token} con <mask>." for c in second)
    assert all(c.sequence == f"[MASK] vive en ___ con {c.token}." for c in third)


@pytest.mark.parametrize("top_k", [1, 7, MAX_TOP_K])
async def test_top_k(loaded: Loaded, top_k: int) -> None:
    [result], _ = await run_loaded(loaded, ["El ___ es rojo."], top_k=top_k)
    assert len(result.masks[0]) == top_k


async def test_long_text_keeps_a_window_around_the_mask(loaded: Loaded) -> None:
    task, lm = loaded
    text = LONG[: len(LONG) // 2] + " El ___ es rojo. " + LONG[len(LONG) // 2 :]
    [feature] = task.preprocess(lm, [text], {})
    assert feature.meta["cut"] and feature.length == lm.max_length
    [(_, position)] = feature.meta["masks"]
    assert abs(position - lm.max_length // 2) <= 2  # centred on the mask
    [result], _ = await run_loaded(loaded, [text])
    assert_well_formed(loaded, result, text, masks=1, top_k=5)
    assert result.truncated is True


async def test_masks_far_apart_each_get_a_window(loaded: Loaded) -> None:
    task, lm = loaded
    text = "<mask> " + LONG + " ___"
    features = task.preprocess(lm, [text], {})
    assert all(f.meta["cut"] for f in features) and len(features) == 2
    assert all(f.length <= lm.max_length for f in features)
    [result], _ = await run_loaded(loaded, [text], top_k=2)
    assert_well_formed(loaded, result, text, masks=2, top_k=2)
    assert result.masks[0][0].sequence.endswith(" ___")
    assert result.masks[1][0].sequence.startswith("<mask> ")


async def test_batched_equals_one_by_one(loaded: Loaded) -> None:
    inputs = [
        "Me gusta el <mask>.",
        "[MASK] vive en ___ con <mask>.",
        FILLER * 40 + " El ___ es rojo. " + FILLER * 40,
        "<mask> " + LONG + " <mask>",
        "Hoy ___.",
    ]
    together, _ = await run_loaded(loaded, inputs, batch_size=64)
    alone = [(await run_loaded(loaded, [text], batch_size=1))[0][0] for text in inputs]
    for a, b in zip(together, alone, strict=True):
        assert a.truncated == b.truncated
        assert len(a.masks) == len(b.masks)
        for ca, cb in zip(a.masks, b.masks, strict=True):
            assert [c.score for c in ca] == pytest.approx([c.score for c in cb], abs=1e-5)
            assert _same_ranking(ca, cb)


def _same_ranking(a: list[MaskCandidate], b: list[MaskCandidate]) -> bool:
    """Same words in the same order, except that words with scores within 1e-5 may swap."""
    scores_in_b = {c.token: c.score for c in b}
    return all(
        x.token == y.token or abs(scores_in_b.get(x.token, -1.0) - x.score) < 1e-5
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize(
    ("inputs", "params"),
    [
        (["Sin ningún hueco."], {}),
        (["Solo dos __ guiones."], {}),
        (["<mask> " * (MAX_MASKS + 1)], {}),
        ([42], {}),
        (["El <mask> es rojo."], {"top_k": 0}),
        (["El <mask> es rojo."], {"top_k": MAX_TOP_K + 1}),
        (["El <mask> es rojo."], {"top_k": True}),
        (["El <mask> es rojo."], {"topk": 3}),
    ],
)
def test_validate_rejects_bad_input_without_a_model(inputs: list, params: dict) -> None:
    with pytest.raises(InvalidInput):
        check_request(create_task("fill_mask"), inputs, params)


def test_missing_mask_error_names_the_accepted_forms() -> None:
    with pytest.raises(InvalidInput, match=r"<mask>.*\[MASK\].*___"):
        create_task("fill_mask").validate(["Sin hueco."])


def test_smoke_input_is_valid() -> None:
    task = create_task("fill_mask")
    task.validate([task.smoke_input()])
