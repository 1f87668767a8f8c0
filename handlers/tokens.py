"""/tokens: how a model's tokenizer cuts a text: its tokens, their ids, the words it split.

The default is /clasificar's model (Recognai's Spanish SELECTRA): a Spanish WordPiece vocabulary
whose "##" pieces show plainly where a word was cut. The comparison line sets it against XLM-R
(/completar's), a multilingual SentencePiece vocabulary that cuts Spanish words more often.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from bot import texts
from bot.engine.errors import EngineError
from bot.engine.results import Token, Tokenization
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, target_text, usage

DEFAULT_NAME = "clasificar"
COMPARED_NAME = "completar"
"""The tokenizer the comparison line sets against the one shown (the default when it is this)."""
TOKENS_PER_LINE = 8
CHOSEN = re.compile(r"^\s*(\w+)\s*:\s*", re.UNICODE)


async def handle(request: Request, services: Services) -> Reply:
    """Lists the tokens of the default tokenizer, or of the one named before a colon."""
    if problem := document_problem(request, services.settings):
        return problem
    name, text = split_tokenizer_name(request)
    if not text:
        return usage("tokens")
    [shown] = await services.engine.tokenize(task_for(name), [text])
    other = COMPARED_NAME if name != COMPARED_NAME else DEFAULT_NAME
    try:
        [compared] = await services.engine.tokenize(task_for(other), [text])
    except EngineError:  # that model is unavailable: the answer stands without the comparison
        compared = None
    return tokens_reply(name, shown, other, compared)


def split_tokenizer_name(request: Request) -> tuple[str, str]:
    """The tokenizer's name ("modelo: texto", else the default) and the text to cut."""
    match = CHOSEN.match(request.text)
    if match is not None and (name := known_name(match.group(1))):
        rest = request.text[match.end() :].strip()
        return name, rest or target_text(dataclasses.replace(request, text=""))
    return DEFAULT_NAME, target_text(request)


def known_name(typed: str) -> str | None:
    """The name in TOKENIZER_NAMES a typed word means (accents, case or a task key aside)."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFD", typed.lower()) if not unicodedata.combining(ch)
    )
    if plain in texts.TOKENIZER_NAMES:
        return plain
    for name, task in texts.TOKENIZER_NAMES.items():
        if plain == task:
            return name
    return None


def task_for(name: str) -> str:
    return texts.TOKENIZER_NAMES[name]


def shown_as(token: Token) -> str:
    """A token as the tokenizer spells it; its "unknown" token as the characters it stands for."""
    if token.unknown:
        return f"{token.source.strip()}{texts.TOKENS_UNKNOWN_MARK}"
    return token.text


def tokens_reply(
    name: str, shown: Tokenization, other: str, compared: Tokenization | None
) -> Reply:
    """Title, the count, the tokens with their ids, the split words and the comparison."""
    special = sum(token.special for token in shown.tokens)
    lines = [
        texts.TOKENS_TITLE.format(name=name),
        texts.TOKENS_COUNT.format(count=texts.TOKENS.count(shown.count), special=special),
    ]
    cells = [f"<code>{escape(shown_as(token))}</code> {token.id}" for token in shown.tokens]
    lines += [
        " · ".join(cells[at : at + TOKENS_PER_LINE]) for at in range(0, len(cells), TOKENS_PER_LINE)
    ]
    if any(token.unknown for token in shown.tokens):
        lines.append(texts.TOKENS_UNKNOWN_NOTE)
    lines.append("")
    if shown.split_words:
        unknown = {token.text for token in shown.tokens if token.unknown}
        lines.append(texts.TOKENS_SPLIT_TITLE)
        for split in shown.split_words:
            pieces = " + ".join(
                f"<code>{escape(texts.TOKENS_UNKNOWN_MARK if piece in unknown else piece)}</code>"
                for piece in split.pieces
            )
            lines.append(texts.TOKENS_SPLIT_WORD.format(word=escape(split.word), pieces=pieces))
    else:
        lines.append(texts.TOKENS_NONE_SPLIT)
    if compared is not None:
        lines += [
            "",
            texts.TOKENS_COMPARISON.format(
                name=name,
                count=texts.TOKENS.count(shown.count),
                other=other,
                other_count=texts.TOKENS.count(compared.count),
            ),
        ]
    return Reply.text("\n".join(lines))
