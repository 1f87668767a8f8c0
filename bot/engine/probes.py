"""Known-answer probes: inputs whose answer no working model can miss (`prefetch --check`).

A model that loads and runs may still be the wrong one, a broken download or a model run the
wrong way (float16 mT5, a missing preprocessing step); only a right answer proves it works. Each
probe's cases are chosen so that a model answering at random, or always the same thing, fails:
a classifier must tell two opposite texts apart, a QA model must find two different answers in
one context. Plain data that imports no torch; ``bot/prefetch.py`` runs them.
"""

from __future__ import annotations

import re
import unicodedata
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine.labels import normalize_label
from bot.engine.results import (
    Answer,
    Classification,
    FillMaskResult,
    GeneratedText,
    PosResult,
    QAInput,
    Summary,
    Transcription,
    Translation,
    ZeroShotInput,
)

Verdict = tuple[bool, str]
"""Whether a result is right, and what the model answered, in short."""


@dataclass(frozen=True)
class Case:
    """One input and how to judge its result."""

    input: Any
    expected: str
    judge: Callable[[Any], Verdict]


@dataclass(frozen=True)
class Probe:
    """A named check of one task's model: it passes when every case does."""

    task: str
    name: str
    cases: tuple[Case, ...]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def expected(self) -> str:
        return "; ".join(case.expected for case in self.cases)


def plain_words(text: str) -> set[str]:
    """Lowercased words without accents, so "Cómo" and "como" are the same word."""
    stripped = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in stripped if not unicodedata.combining(c))
    return set(re.findall(r"\w+", bare))


def short(text: str, limit: int = 60) -> str:
    """A result shortened for one table cell."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def translation_with(*words: str) -> Callable[[Any], Verdict]:
    """A translation holding at least one of these words (accents and case aside)."""
    wanted = plain_words(" ".join(words))

    def judge(result: Translation) -> Verdict:
        return bool(wanted & plain_words(result.text)), short(result.text)

    return judge


def tags(expected: list[str]) -> Callable[[Any], Verdict]:
    """The words' part-of-speech tags, punctuation aside, are exactly these."""

    def judge(result: PosResult) -> Verdict:
        found = [normalize_label("pos", w.tag) for w in result.words if re.search(r"\w", w.word)]
        return found == expected, " ".join(found)

    return judge


def best_label(kind: str, expected: str) -> Callable[[Any], Verdict]:
    """The top label, normalised for its kind (a task key), is this one."""

    def judge(result: Classification) -> Verdict:
        label = normalize_label(kind, result.best.label, len(result.labels))
        return label == expected, f"{label} {result.best.score:.2f}"

    return judge


def answer_with(word: str, other: str) -> Callable[[Any], Verdict]:
    """The answer span holds this word and not the other question's answer.

    A span as long as the whole context would hold both answers: that is no answer at all.
    """

    def judge(result: Answer) -> Verdict:
        words = plain_words(result.text)
        right = plain_words(word) <= words and not plain_words(other) & words
        return right, short(result.text)

    return judge


def among_candidates(word: str) -> Callable[[Any], Verdict]:
    """The word is one of the first mask's candidates."""

    def judge(result: FillMaskResult) -> Verdict:
        candidates = [c.token.strip() for c in result.masks[0]]
        found = any(plain_words(word) == plain_words(c) for c in candidates)
        return found, short(", ".join(candidates))

    return judge


def summary_of(text: str, key_words: tuple[str, ...]) -> Callable[[Any], Verdict]:
    """A summary that is not empty, is shorter than the text and keeps one of its key words."""
    wanted = plain_words(" ".join(key_words))

    def judge(result: Summary) -> Verdict:
        summary = result.text.strip()
        right = bool(summary) and len(summary) < len(text) and bool(wanted & plain_words(summary))
        return right, short(summary) or "(empty)"

    return judge


def continues(result: GeneratedText) -> Verdict:
    """The poem goes on after its opening with at least one word."""
    tail = result.text[len(result.prompt) :]
    return bool(re.search(r"\w", tail)), short(tail.strip()) or "(empty)"


SUMMARY_TEXT = (
    "El Ayuntamiento de Valencia abrirá en septiembre un nuevo hospital infantil en el barrio "
    "de Benimaclet. El hospital tendrá 120 camas y un servicio de urgencias abierto día y noche. "
    "Las obras costaron 40 millones de euros y duraron tres años. La alcaldesa dijo que el "
    "hospital atenderá a más de 50.000 niños cada año y que dará trabajo a 600 personas."
)
QA_CONTEXT = "María vive en Sevilla desde 2010 y trabaja como enfermera en un hospital del centro."
ZERO_SHOT_LABELS = ("deportes", "cocina")
SPEECH_FILE = Path(__file__).with_name("probe_speech.wav")
"""espeak-ng saying "Hola, buenos días." in Spanish, 16 kHz mono 16-bit PCM."""


def speech_sample() -> Any:
    """The probe's speech as the transcription task takes it."""
    import numpy as np

    from bot.engine.results import AudioInput

    with wave.open(str(SPEECH_FILE)) as reader:
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    return AudioInput(pcm.astype(np.float32) / 32768.0)


def transcript_with(*words: str) -> Callable[[Any], Verdict]:
    """A transcript holding at least one of these words (accents and case aside)."""
    wanted = plain_words(" ".join(words))

    def judge(result: Transcription) -> Verdict:
        return bool(wanted & plain_words(result.text)), short(result.text) or "(empty)"

    return judge


PROBES: tuple[Probe, ...] = (
    Probe(
        "translate_es_en",
        "greeting es→en",
        (Case("Hola, ¿cómo estás?", 'contains "how"', translation_with("how")),),
    ),
    Probe(
        "translate_es_en",
        "coffee es→en",
        (Case("Me gusta mucho el café.", 'contains "coffee"', translation_with("coffee")),),
    ),
    Probe(
        "translate_en_es",
        "greeting en→es",
        (Case("How are you?", 'contains "cómo" or "estás"', translation_with("cómo", "estás")),),
    ),
    Probe(
        "translate_en_es",
        "coffee en→es",
        (Case("I really like coffee.", 'contains "café"', translation_with("café")),),
    ),
    Probe(
        "summarize",
        "news summary",
        (
            Case(
                SUMMARY_TEXT,
                "shorter, keeps hospital/Valencia",
                summary_of(SUMMARY_TEXT, ("hospital", "Valencia", "infantil", "niños")),
            ),
        ),
    ),
    Probe(
        "qa",
        "two answers",
        (
            Case(
                QAInput("¿Dónde vive María?", QA_CONTEXT), "Sevilla", answer_with("Sevilla", "2010")
            ),
            Case(
                QAInput("¿Desde cuándo vive en Sevilla?", QA_CONTEXT),
                "2010",
                answer_with("2010", "Sevilla"),
            ),
        ),
    ),
    Probe(
        "zero_shot",
        "sport or cooking",
        (
            Case(
                ZeroShotInput(
                    "El Real Madrid ganó la final de la Liga de Campeones.", ZERO_SHOT_LABELS
                ),
                "deportes",
                best_label("zero_shot", "deportes"),
            ),
            Case(
                ZeroShotInput(
                    "Sofríe la cebolla, añade el arroz y deja cocer la paella.", ZERO_SHOT_LABELS
                ),
                "cocina",
                best_label("zero_shot", "cocina"),
            ),
        ),
    ),
    Probe(
        "fill_mask",
        "capital of France",
        (
            Case(
                "La capital de Francia es <mask>.", "París in the top 5", among_candidates("París")
            ),
        ),
        {"top_k": 5},
    ),
    Probe(
        "poem",
        "continues a verse",
        (Case("Verde que te quiero verde,", "some words after the opening", continues),),
    ),
    Probe(
        "pos",
        "determiner noun verb noun",
        (
            Case(
                "El gato come pescado.",
                "DET NOUN VERB NOUN",
                tags(["DET", "NOUN", "VERB", "NOUN"]),
            ),
        ),
    ),
    Probe(
        "sentiment",
        "positive and negative",
        (
            Case("Me encanta este libro", "POS", best_label("sentiment", "POS")),
            Case("Odio este libro, es horrible.", "NEG", best_label("sentiment", "NEG")),
        ),
    ),
    Probe(
        "language",
        "English and Spanish",
        (
            Case("This is an English sentence.", "en", best_label("language", "en")),
            Case("Esta frase está escrita en español.", "es", best_label("language", "es")),
        ),
    ),
    Probe(
        "transcribe",
        "spoken greeting",
        (
            Case(
                speech_sample(),
                'contains "hola", "buenos" or "días"',
                transcript_with("hola", "buenos", "días"),
            ),
        ),
    ),
)


def probes_for(task: str) -> list[Probe]:
    """The probes of one task key, in table order (none for a task added later)."""
    return [probe for probe in PROBES if probe.task == task]
