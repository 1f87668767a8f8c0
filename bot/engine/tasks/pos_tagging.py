"""Part-of-speech tagging, word by word, with character spans into the original text.

We split the text into words ourselves (letters/digits with inner apostrophes, and every other
mark or emoji on its own), so each word gets exactly one tag: that of its first sub-token.
Long texts are packed into windows of whole words that fit the model, breaking after a
sentence end where one is near; every word is tagged exactly once and nothing is dropped.
A model trained on normalised text (RoBERTuito) reads each word normalised on its own, so tags
still land on the user's words: a handle, a link or a hashtag is one word, and a word that
becomes several (an emoji's Spanish name) takes the tag of its first piece.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForTokenClassification

from bot.engine.results import PosResult, TaggedWord
from bot.engine.tasks.base import Feature, LoadedModel, Task, pad_batch
from bot.engine.tasks.checks import check_texts
from bot.engine.tasks.text_classification import SCORE_DIGITS, model_labels, special_frame
from bot.engine.text_preprocessing import PYSENTIMIENTO, SOCIAL_TOKEN, normalize_word

# Marks that belong to the character before them: accents, keycaps, variation selectors,
# skin tones and emoji tag sequences.
_MARKS = (
    "\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
)
_LETTER = rf"(?:[^\W_][{_MARKS}]*)"
_WORD = re.compile(
    r"\d+(?:[.,:]\d+)+"  # one number: "3,14", "1.000", "8:30"
    rf"|{_LETTER}+(?:['’]{_LETTER}+)*"  # words and numbers, "l'amour", "d’Artagnan"
    r"|[\U0001f1e6-\U0001f1ff]{2}"  # a flag is two regional indicators
    rf"|[^\s{_MARKS}][{_MARKS}]*(?:\u200d[^\s{_MARKS}][{_MARKS}]*)*"  # a mark or a (ZWJ) emoji
    rf"|[{_MARKS}]+"  # stray marks still belong to some word
)
# Handles, links and hashtags first: the normaliser replaces each whole.
_SOCIAL_WORD = re.compile(f"{SOCIAL_TOKEN.pattern}|{_WORD.pattern}")
_SENTENCE_END = frozenset(".!?…;")


def split_words(text: str, social: bool = False) -> list[tuple[str, int, int]]:
    """The words of a text with their character spans; no character outside them but spaces.

    With ``social``, a handle, a link or a hashtag is one word.
    """
    pattern = _SOCIAL_WORD if social else _WORD
    return [(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]


def word_pieces(tokenizer: Any, words: list[str]) -> list[list[int]]:
    """Token ids of each word, tokenised as pre-split words the way the model was fine-tuned.

    A word with spaces inside (a normalised emoji) is read as the words it holds.
    """
    if not words:
        return []
    parts = [word.split() or [word] for word in words]
    flat = [part for word_parts in parts for part in word_parts]
    owners = [i for i, word_parts in enumerate(parts) for _ in word_parts]
    pieces: list[list[int]] = [[] for _ in words]
    if getattr(tokenizer, "is_fast", False):
        encoding = tokenizer(
            flat, is_split_into_words=True, add_special_tokens=False, verbose=False
        )
        for token_id, part_id in zip(encoding["input_ids"], encoding.word_ids(), strict=True):
            if part_id is not None:
                pieces[owners[part_id]].append(token_id)
    else:
        encoded = tokenizer(flat, add_special_tokens=False, verbose=False)["input_ids"]
        for owner, ids in zip(owners, encoded, strict=True):
            pieces[owner].extend(ids)
    unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
    # A word the normaliser erases still needs a position to be tagged at.
    return [ids or [unk] for ids in pieces]


def pack_words(words: list[str], pieces: list[list[int]], budget: int) -> list[range]:
    """Consecutive word ranges whose tokens fit the budget, preferring to cut after a sentence."""
    sizes = [min(len(ids), budget) for ids in pieces]
    windows: list[range] = []
    start, used, last_end = 0, 0, -1
    for i, size in enumerate(sizes):
        if used + size > budget and i > start:
            cut = i
            if last_end >= start and (last_end + 1 - start) * 2 >= i - start:
                cut = last_end + 1  # the words after the sentence end move to the next window
            windows.append(range(start, cut))
            start, used, last_end = cut, sum(sizes[cut:i]), -1
            if used + size > budget:  # the carried words and this one still do not fit
                windows.append(range(start, i))
                start, used = i, 0
        used += size
        if words[i] in _SENTENCE_END:
            last_end = i
    if start < len(sizes):
        windows.append(range(start, len(sizes)))
    return windows


class PosTaggingTask(Task):
    """One UPOS tag per word, with its probability and its span in the text."""

    model_class = AutoModelForTokenClassification

    def validate(self, inputs: list[Any]) -> None:
        """Texts must be strings; an empty one simply has no words."""
        check_texts(inputs, allow_empty=True)

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """Split texts into words, and words into windows of token ids that fit the model."""
        tokenizer = lm.tokenizer
        prefix, suffix = special_frame(tokenizer)
        budget = max(1, lm.max_length - len(prefix) - len(suffix))
        style = lm.traits.text_preprocessing
        features: list[Feature] = []
        for index, text in enumerate(inputs):
            words = split_words(text, social=style == PYSENTIMIENTO)
            texts = [w for w, _, _ in words]
            pieces = word_pieces(tokenizer, [normalize_word(style, w) for w in texts])
            for window in pack_words(texts, pieces, budget):
                ids = list(prefix)
                firsts = []
                for i in window:
                    firsts.append(len(ids))
                    ids.extend(pieces[i][:budget])  # only a word's first token is read
                ids.extend(suffix)
                meta = {"request": index, "words": [words[i] for i in window], "firsts": firsts}
                features.append(Feature(input_ids=ids, meta=meta))
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Best label id and its probability at each word's first token."""
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        probs = torch.softmax(lm.model(**batch).logits.float(), dim=-1)
        raws = []
        for row, feature in enumerate(features):
            picked = probs[row, feature.meta["firsts"]]
            best, ids = picked.max(dim=-1)
            raws.append((ids.cpu().numpy(), best.cpu().numpy().astype(np.float64)))
        return raws

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[PosResult]:
        """Each window's tags on its words; windows come in text order, so words do too."""
        labels = model_labels(lm, "pos")
        tagged: list[list[TaggedWord]] = [[] for _ in inputs]
        for feature, (ids, scores) in zip(features, raws, strict=True):
            words = feature.meta["words"]
            for (word, start, end), label_id, score in zip(words, ids, scores, strict=True):
                value = min(1.0, max(0.0, round(float(score), SCORE_DIGITS)))
                tagged[feature.meta["request"]].append(
                    TaggedWord(word, labels[int(label_id)], value, start, end)
                )
        return [PosResult(words=words) for words in tagged]

    def smoke_input(self) -> Any:
        """A short sentence with several word classes."""
        return "El perro de María come pan en el parque."
