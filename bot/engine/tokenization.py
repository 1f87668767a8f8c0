"""A task's tokenizer on its own, for /tokens: how it cuts a text, without loading weights.

The tokenizer comes from the task's model folder, the hub cache, or the hub (which then sends
the tokenizer's files only). Blocking functions: the engine runs them on the task's
tokenizer thread, where the model's own tokenizer also runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.engine.errors import EngineError, ModelUnavailable
from bot.engine.results import SplitWord, Token, Tokenization

if TYPE_CHECKING:
    from bot.engine.tasks.base import Task

WORD = re.compile(r"\w+")
"""A word as a reader sees one: letters and digits; punctuation is not a word to split."""


def load_tokenizer_only(task: Task, key: str, model_id: str) -> Any:
    """The tokenizer of a task's model; raises ModelUnavailable (or HubUnreachable)."""
    from bot.engine.downloads import cached_folder, hub_error, is_hub_id

    folder = Path(model_id).expanduser()
    if folder.is_dir():
        source = str(folder)
    elif is_hub_id(model_id):
        source = str(cached_folder(model_id) or model_id)
    else:
        raise ModelUnavailable(key, model_id, "no such folder, and not a hub model id")
    try:
        return task.load_tokenizer(source)
    except EngineError:
        raise
    except Exception as exc:
        raise hub_error(key, model_id, exc) from exc


def cut_into_tokens(tokenizer: Any, text: str) -> Tokenization:
    """Every token the model would receive for `text` (special ones included, no truncation)."""
    fast = bool(getattr(tokenizer, "is_fast", False))
    encoding = tokenizer(text, verbose=False, return_offsets_mapping=fast)
    ids = [int(i) for i in encoding["input_ids"]]
    names = tokenizer.convert_ids_to_tokens(ids)
    # An unknown character becomes [UNK]: a special token, yet cut from the text.
    unknown = tokenizer.unk_token_id
    added = set(tokenizer.all_special_ids) - {unknown}
    offsets = encoding["offset_mapping"] if fast else [(0, 0)] * len(ids)
    tokens = tuple(
        Token(str(name), token_id, token_id in added, token_id == unknown, text[start:end])
        for name, token_id, (start, end) in zip(names, ids, offsets, strict=True)
    )
    if fast:
        split = _split_words_by_offsets(text, tokens, offsets)
    else:
        split = _split_words_one_by_one(tokenizer, text)
    return Tokenization(tokens, split, type(tokenizer).__name__)


def _split_words_by_offsets(
    text: str, tokens: tuple[Token, ...], offsets: list[tuple[int, int]]
) -> tuple[SplitWord, ...]:
    """Words whose characters went into two or more tokens, each word once, in text order."""
    word_at: dict[int, int] = {}
    words = list(WORD.finditer(text))
    for index, match in enumerate(words):
        word_at.update(dict.fromkeys(range(match.start(), match.end()), index))
    pieces: dict[int, list[str]] = {}
    for token, (start, end) in zip(tokens, offsets, strict=True):
        if token.special:
            continue
        word = next((word_at[at] for at in range(start, end) if at in word_at), None)
        if word is not None:
            pieces.setdefault(word, []).append(token.text)
    return _first_of_each(
        (words[index].group(), tuple(cut)) for index, cut in sorted(pieces.items())
    )


def _split_words_one_by_one(tokenizer: Any, text: str) -> tuple[SplitWord, ...]:
    """Without offsets (slow tokenizers), each word tokenised on its own."""
    return _first_of_each(
        (match.group(), tuple(tokenizer.tokenize(match.group()))) for match in WORD.finditer(text)
    )


def _first_of_each(cuts: Any) -> tuple[SplitWord, ...]:
    """The words cut in two or more pieces, a repeated word only once."""
    seen: set[str] = set()
    split: list[SplitWord] = []
    for word, pieces in cuts:
        if len(pieces) > 1 and word not in seen:
            seen.add(word)
            split.append(SplitWord(word, pieces))
    return tuple(split)
