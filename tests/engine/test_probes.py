"""Known-answer probes: a right answer passes, a constant or a sprawling one does not."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from bot.engine.probes import PROBES, SUMMARY_TEXT, Probe, probes_for
from bot.engine.registry import TASK_KEYS
from bot.engine.results import (
    Answer,
    Classification,
    FillMaskResult,
    GeneratedText,
    LabelScore,
    MaskCandidate,
    PosResult,
    Summary,
    TaggedWord,
    Transcription,
    Translation,
)


def ranked(*labels: str) -> Classification:
    return Classification([LabelScore(label, 1.0 / (i + 2)) for i, label in enumerate(labels)])


def tagged(*pairs: tuple[str, str]) -> PosResult:
    return PosResult([TaggedWord(word, tag, 0.9, 0, len(word)) for word, tag in pairs])


def answer(text: str) -> Answer:
    return Answer(text, 0.9, 0, len(text), text)


def candidates(*words: str) -> FillMaskResult:
    return FillMaskResult([[MaskCandidate(w, 0.1, "") for w in words]])


# What working models answer (as the real defaults do), probe by probe and case by case.
RIGHT: dict[str, list[Any]] = {
    "greeting es→en": [Translation("Hello, how are you?", "es", "en")],
    "coffee es→en": [Translation("I really like coffee.", "es", "en")],
    "greeting en→es": [Translation("Hola, ¿cómo estás?", "en", "es")],
    "coffee en→es": [Translation("Me gusta mucho el café.", "en", "es")],
    "news summary": [Summary("Valencia abrirá en septiembre un nuevo hospital infantil.")],
    "two answers": [answer("en Sevilla"), answer("2010")],
    "sport or cooking": [ranked("deportes", "cocina"), ranked("cocina", "deportes")],
    "capital of France": [candidates(" Madrid", " París", " Lyon", " Roma", " Bruselas")],
    "continues a verse": [
        GeneratedText("Verde que te quiero verde, verde viento.", "Verde que te quiero verde,")
    ],
    # As pysentimiento's tagger spells them: IOB prefixes the probe normalises away.
    "determiner noun verb noun": [
        tagged(
            ("El", "B-DET"),
            ("gato", "B-NOUN"),
            ("come", "B-VERB"),
            ("pescado", "B-NOUN"),
            (".", "B-PUNCT"),
        )
    ],
    "positive and negative": [ranked("POS", "NEU", "NEG"), ranked("NEG", "NEU", "POS")],
    "English and Spanish": [ranked("en", "es"), ranked("es", "en")],
    "spoken greeting": [Transcription(" Hola, buenos días.", "es", 1)],
}

# Answers a broken or random model gives: the same thing whatever it is asked, or everything.
WRONG: dict[str, list[Any]] = {
    "greeting es→en": [Translation("Hola hola show", "es", "en")],
    "greeting en→es": [Translation("How are you?", "en", "es")],
    "news summary": [Summary(""), Summary(SUMMARY_TEXT + " Y más."), Summary("Llueve en Madrid.")],
    "two answers": [answer("en Sevilla desde 2010"), answer("en Sevilla desde 2010")],
    "sport or cooking": [ranked("deportes", "cocina"), ranked("deportes", "cocina")],
    "capital of France": [candidates("Madrid", "Lyon", "Roma", "Berlín", "Lisboa")],
    "continues a verse": [
        GeneratedText("Verde que te quiero verde,  ", "Verde que te quiero verde,")
    ],
    "determiner noun verb noun": [tagged(("El", "DET"), ("gato", "NOUN"), ("come", "NOUN"))],
    "positive and negative": [ranked("POS", "NEG"), ranked("POS", "NEG")],
    "English and Spanish": [ranked("en", "es"), ranked("en", "es")],
    "spoken greeting": [Transcription(""), Transcription("Gracias por ver el vídeo.", "es")],
}


def verdicts(probe: Probe, results: list[Any]) -> list[bool]:
    return [case.judge(result)[0] for case, result in zip(probe.cases, results, strict=True)]


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_a_working_model_passes(probe: Probe) -> None:
    assert all(verdicts(probe, RIGHT[probe.name]))


@pytest.mark.parametrize("probe", [p for p in PROBES if p.name in WRONG], ids=lambda p: p.name)
def test_a_constant_or_sprawling_answer_fails(probe: Probe) -> None:
    wrong = WRONG[probe.name]
    if len(probe.cases) == 1:
        assert not any(verdicts(probe, [result]) == [True] for result in wrong)
    else:
        assert not all(verdicts(probe, wrong))


def test_every_built_in_task_has_a_probe_and_names_are_unique() -> None:
    assert {probe.task for probe in PROBES} == set(TASK_KEYS)
    assert len({probe.name for probe in PROBES}) == len(PROBES)
    assert probes_for("not_a_task") == []
    assert [p.name for p in probes_for("translate_en_es")] == ["greeting en→es", "coffee en→es"]


def test_the_probes_load_no_torch() -> None:
    code = "import sys, bot.engine.probes; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
