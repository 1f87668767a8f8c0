"""Plain-data inputs and results of every task: what handlers and scripts receive."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QAInput:
    """A question about a context (the chat's reading text)."""

    question: str
    context: str


@dataclass(frozen=True)
class ZeroShotInput:
    """A text and the free labels to score it against."""

    text: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Translation:
    text: str
    source: str
    target: str
    pieces: int = 1
    truncated: bool = False


@dataclass(frozen=True)
class Summary:
    text: str
    chunks: int = 1
    rounds: int = 1
    truncated: bool = False


@dataclass(frozen=True)
class Answer:
    """An extractive answer: its text, score, character span in the context, and its sentence."""

    text: str
    score: float
    start: int
    end: int
    sentence: str
    truncated: bool = False  # the question was cut to leave room for the context


@dataclass(frozen=True)
class LabelScore:
    """A label under its one name (a language code, POS/NEG/NEU; see labels.py), its probability."""

    label: str
    score: float


@dataclass(frozen=True)
class Classification:
    """Labels with scores, best first."""

    labels: list[LabelScore]
    truncated: bool = False

    @property
    def best(self) -> LabelScore:
        return self.labels[0]


@dataclass(frozen=True)
class MaskCandidate:
    token: str
    score: float
    sequence: str


@dataclass(frozen=True)
class FillMaskResult:
    """Top-k candidates for each mask in the text, in the order the masks appear."""

    masks: list[list[MaskCandidate]]
    truncated: bool = False


@dataclass(frozen=True)
class GeneratedText:
    text: str
    prompt: str
    new_tokens: int = 0
    truncated: bool = False  # only the prompt's last tokens fitted the window with the new ones


@dataclass(frozen=True)
class TaggedWord:
    word: str
    tag: str
    score: float
    start: int
    end: int


@dataclass(frozen=True)
class PosResult:
    words: list[TaggedWord] = field(default_factory=list)
    truncated: bool = False
