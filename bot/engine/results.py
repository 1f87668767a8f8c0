"""Plain-data inputs and results of every task: what handlers and scripts receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
class AudioInput:
    """Decoded speech for ``transcribe``: mono float32 samples (a numpy array) at 16 kHz."""

    samples: Any
    sampling_rate: int = 16_000


@dataclass(frozen=True)
class Transcription:
    """What was said, the language heard (a code such as "es"), and the 30 s windows read."""

    text: str
    language: str = ""
    chunks: int = 0
    truncated: bool = False  # a window's text reached the length cap before its end


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


@dataclass(frozen=True)
class Token:
    """One token as the model receives it: its text in the tokenizer's own spelling, its id."""

    text: str
    id: int
    special: bool = False  # added by the tokenizer ([CLS], </s>...), not cut from the text
    unknown: bool = False  # the tokenizer's "unknown" token, standing for `source`
    source: str = ""  # the characters of the text it was cut from, where the tokenizer says


@dataclass(frozen=True)
class SplitWord:
    """A word of the text that the tokenizer cut into several tokens."""

    word: str
    pieces: tuple[str, ...]


@dataclass(frozen=True)
class Tokenization:
    """How a task's tokenizer cuts one text (`InferenceBackend.tokenize`)."""

    tokens: tuple[Token, ...]
    split_words: tuple[SplitWord, ...] = ()
    tokenizer: str = ""  # the tokenizer's class, e.g. "BertTokenizerFast"

    @property
    def count(self) -> int:
        return len(self.tokens)
