"""Extractive QA: planted answers, spans and sentences, long contexts, batching, validation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.engine.errors import InvalidInput
from bot.engine.registry import create_task
from bot.engine.results import Answer, QAInput
from bot.engine.tasks.base import LoadedModel
from bot.engine.tasks.question_answering import QuestionAnsweringTask
from tests.engine.harness import check_request, load_task, run_direct
from tests.tiny_models import build_controlled_qa

WORD = "Lima"
FILLER = (
    "María come una manzana en la cocina. El profesor lee el periódico por la tarde. "
    "Mis amigos compran pan y queso en el mercado. "
)


@pytest.fixture(scope="module")
def folders(
    tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The session's random QA model, and controlled ones with 512- and 64-token windows."""
    root: Path = tmp_path_factory.mktemp("qa")
    return {
        "random": str(tiny_models["qa"]),
        "controlled": str(build_controlled_qa(root / "controlled", WORD)),
        "narrow": str(build_controlled_qa(root / "narrow", WORD, max_positions=66)),
    }


def load_qa(folder: str) -> tuple[QuestionAnsweringTask, LoadedModel]:
    """The task and its model, to look at the windows preprocess makes."""
    task, lm = load_task("qa", folder)
    assert isinstance(task, QuestionAnsweringTask)
    return task, lm


def assert_is_planted(answer: Answer, context: str, sentence: str) -> None:
    """The answer is the planted word, at its real place, with its whole sentence."""
    assert answer.text == WORD
    assert context[answer.start : answer.end] == WORD
    assert context.count(WORD) == 1 and answer.start == context.index(WORD)
    assert answer.sentence == sentence
    assert 0.0 < answer.score <= 1.0


async def test_planted_answer_span_and_sentence(folders: dict[str, str]) -> None:
    context = "Ana vive en Madrid. Su hermano vive en Lima desde 2010. Trabaja en una biblioteca."
    [answer] = await run_direct("qa", folders["controlled"], [QAInput("¿Dónde vive?", context)])
    assert isinstance(answer, Answer)
    assert_is_planted(answer, context, "Su hermano vive en Lima desde 2010.")


async def test_answer_in_the_last_window(folders: dict[str, str]) -> None:
    context = FILLER * 12 + "Al final, Óscar se mudó a Lima con su familia."
    task, lm = load_qa(folders["narrow"])
    windows = task.preprocess(lm, [QAInput("¿Adónde?", context)], {})
    assert len(windows) > 3 and all(w.length <= lm.max_length for w in windows)
    [answer] = await run_direct("qa", folders["narrow"], [QAInput("¿Adónde?", context)])
    assert_is_planted(answer, context, "Al final, Óscar se mudó a Lima con su familia.")


async def test_answer_inside_the_overlap_of_two_windows(folders: dict[str, str]) -> None:
    task, lm = load_qa(folders["narrow"])
    question = QAInput("¿Dónde?", FILLER * 6)
    first, second = task.preprocess(lm, [question], {})[:2]
    shared = [
        o
        for o, c in zip(first.meta["offsets"], first.meta["is_context"], strict=True)
        if c and o in second.meta["offsets"]
    ]
    assert len(shared) >= 4  # the windows do overlap
    # Put the word in the middle of the overlap, replacing the word found there.
    middle = shared[len(shared) // 2][0]
    word_start = question.context.rindex(" ", 0, middle + 1) + 1
    word_end = question.context.index(" ", word_start)
    context = question.context[:word_start] + WORD + question.context[word_end:]
    windows = task.preprocess(lm, [QAInput("¿Dónde?", context)], {})
    holding = [
        w
        for w in windows
        if any(
            c and context[o[0] : o[1]] == WORD
            for o, c in zip(w.meta["offsets"], w.meta["is_context"], strict=True)
        )
    ]
    assert len(holding) == 2
    [answer] = await run_direct("qa", folders["narrow"], [QAInput("¿Dónde?", context)])
    assert answer.text == WORD and context[answer.start : answer.end] == WORD
    assert answer.start == word_start
    assert WORD in answer.sentence and answer.sentence in context


async def test_random_model_gives_well_formed_answers(folders: dict[str, str]) -> None:
    inputs = [
        QAInput("¿Quién come?", "María come una manzana.  Luego duerme."),
        QAInput("¿Qué lee?", "  El profesor lee el periódico por la tarde.\nDespués sale.  "),
        QAInput("¿Dónde?", FILLER * 40),
    ]
    answers = await run_direct("qa", folders["random"], inputs)
    assert len(answers) == len(inputs)
    for item, answer in zip(inputs, answers, strict=True):
        assert answer.text and answer.text == answer.text.strip()
        assert item.context[answer.start : answer.end] == answer.text
        assert answer.text in answer.sentence and answer.sentence in item.context
        assert 0.0 <= answer.score <= 1.0


async def test_batched_equals_one_by_one(folders: dict[str, str]) -> None:
    inputs = [
        QAInput("¿Quién come?", "María come una manzana en la cocina."),
        QAInput("¿Dónde?", FILLER * 30),
        QAInput("¿Qué compra?", "Mis amigos compran pan y queso. Luego vuelven a casa."),
        QAInput("¿Cuándo lee el profesor el periódico en la biblioteca?", FILLER * 3),
    ]
    together = await run_direct("qa", folders["random"], inputs, batch_size=64)
    alone = [(await run_direct("qa", folders["random"], [i], batch_size=1))[0] for i in inputs]
    for a, b in zip(together, alone, strict=True):
        assert (a.text, a.start, a.end, a.sentence) == (b.text, b.start, b.end, b.sentence)
        assert math.isclose(a.score, b.score, abs_tol=1e-5)


async def test_a_very_long_question_still_leaves_room_for_context(folders: dict[str, str]) -> None:
    question = "¿" + "qué come María en la cocina " * 30 + "?"
    context = "Óscar vive en Lima. " + FILLER * 3
    [answer] = await run_direct("qa", folders["narrow"], [QAInput(question, context)])
    assert_is_planted(answer, context, "Óscar vive en Lima.")
    assert answer.truncated is True  # the question was cut to half the window


async def test_a_question_that_fits_is_not_truncated(folders: dict[str, str]) -> None:
    context = "Óscar vive en Lima. " + FILLER * 3
    [answer] = await run_direct("qa", folders["narrow"], [QAInput("¿Dónde vive?", context)])
    assert answer.truncated is False


@pytest.mark.parametrize(
    ("inputs", "params"),
    [
        ([QAInput("", "Hay contexto.")], {}),
        ([QAInput("¿Qué?", "   ")], {}),
        (["¿Qué? Hay contexto."], {}),
        ([QAInput("¿Qué?", "Hay contexto.")], {"max_answer_tokens": 0}),
        ([QAInput("¿Qué?", "Hay contexto.")], {"max_answer_tokens": "5"}),
        ([QAInput("¿Qué?", "Hay contexto.")], {"max_answer_length": 5}),
    ],
)
def test_validate_rejects_bad_input_without_a_model(inputs: list, params: dict) -> None:
    task = create_task("qa")
    assert isinstance(task, QuestionAnsweringTask)
    with pytest.raises(InvalidInput):
        check_request(task, inputs, params)


def test_smoke_input_is_valid() -> None:
    task = create_task("qa")
    task.validate([task.smoke_input()])
