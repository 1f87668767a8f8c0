"""The text normalisation a model saw in training, applied before its tokenizer reads a text.

RoBERTuito's models (sentiment, POS) were trained on tweets passed through pysentimiento's
``preprocess_tweet(lang="es")``; fed raw text they see user handles, links and emoji they never
learnt. This is that function for Spanish, rewritten on the ``emoji`` package alone because
pysentimiento itself pulls in heavy dependencies. Steps and order follow pysentimiento; where
its regexes misfire on chat text we keep the intent and say so at the pattern.
"""

from __future__ import annotations

import re

import emoji

PYSENTIMIENTO = "pysentimiento"
STYLES = frozenset({"", PYSENTIMIENTO})
"""Every value ``ModelTraits.text_preprocessing`` may take; "" reads text as it comes."""

USER_TOKEN = "@usuario"
URL_TOKEN = "url"
HASHTAG_TOKEN = "hashtag"
EMOJI_WRAPPER = "emoji"
SHORTEN = 3

# Handles. pysentimiento's "@[a-zA-Z0-9_]{0,15}" also eats a lone "@", the "@domain" of an
# e-mail address and only the first 15 characters of a Telegram username (up to 32).
HANDLE = r"(?<![\w@])@[A-Za-z0-9_]+"
# Links: pysentimiento's regex (1 to 6 dotted names and a TLD from its list), which needs a
# non-alphanumeric character before it and so kept "http://" at the start of a text; ours
# also takes the whole path (its path was letters and digits only), not a final full stop.
_TLDS = "com|co|org|edu|gov|uk|net|ca|de|jp|fr|au|us|ru|ch|it|nl|se|no|es|mil|iq|io|ac|ly|sm"
URL = (
    r"(?<![A-Za-z0-9@.])(?:https?://)?(?:\w+\.){1,6}"
    rf"(?:{_TLDS})\b"
    r"(?:/(?:[^\s]*[^\s.,;:!?¡¿)\]}'\"»…])?)?"
)
HASHTAG = r"\B#(\w*[a-zA-Z]+\w*)"
SOCIAL_TOKEN = re.compile(f"{URL}|{HANDLE}|{HASHTAG}")
"""What the normaliser replaces whole: a tagger keeps each as one word."""

_HANDLE = re.compile(HANDLE)
_URL = re.compile(URL)
_HASHTAG = re.compile(HASHTAG)
_CAMEL = re.compile(r"([A-Z]+)")
_REPEATED = re.compile(rf"(.)\1{{{SHORTEN - 1},}}")
_LAUGHTER = re.compile(r"[ja][ja]+aj[ja]+")
# Private-use delimiters: pysentimiento's "|" also wrapped any text between two bars typed
# by the user.
_OPEN, _CLOSE = "\ue000", "\ue001"
_EMOJI_NAME = re.compile(f"{_OPEN}([^{_OPEN}{_CLOSE}]+){_CLOSE}")

# pysentimiento's character table: typographic variants folded, decorations dropped.
_CHARACTERS = str.maketrans(
    {
        "~": None, "£": None, "¥": None, "¨": '"', "©": None, "«": '"', "°": None, "´": None,
        "¶": None, "·": None, "º": None, "»": '"', "×": None, "ا": None, "–": None, "—": None,
        "‘": None, "’": None, "“": '"', "”": '"', "•": None, "…": None, "‼": "!", "€": "$",
        "™": None, "●": None, "☠": None, "☹": None, "☺": None, "☻": "😃", "♀": None,
        "♂": None, "♡": "❤️", "♥": "❤️", "⚰": None, "⛱": None, "⛹": None, "✈": None,
        "✓": None, "❤": None, "ー": None, "🕯": None, "🛰": None,
    }
)  # fmt: skip


def _hashtag_words(match: re.Match[str]) -> str:
    """#UnaGenialidad -> "hashtag una genialidad": camel case split, lowercased."""
    words = _CAMEL.sub(r" \1", match.group(1)).strip().lower()
    return f"{HASHTAG_TOKEN} {words}"


def _emoji_words(match: re.Match[str]) -> str:
    """A demojized name between the wrapper words, as RoBERTuito read it in training."""
    name = " ".join(match.group(1).split("_"))
    return f" {EMOJI_WRAPPER} {name} {EMOJI_WRAPPER} "


def preprocess_tweet(text: str) -> str:
    """pysentimiento's ``preprocess_tweet(text, lang="es")`` with its default settings."""
    text = _HASHTAG.sub(_hashtag_words, text)
    text = text.translate(_CHARACTERS)
    text = _HANDLE.sub(USER_TOKEN, text)
    text = _URL.sub(URL_TOKEN, text)
    text = _REPEATED.sub(r"\1" * SHORTEN, text)
    text = emoji.demojize(text, language="es", delimiters=(_OPEN, _CLOSE))
    text = _EMOJI_NAME.sub(_emoji_words, text)
    text = _LAUGHTER.sub("jaja", text)
    return text.strip()


def normalize_text(style: str, text: str) -> str:
    """A whole text as a model with this ``text_preprocessing`` trait expects it."""
    if style == PYSENTIMIENTO:
        return preprocess_tweet(text)
    if style:
        raise ValueError(f"unknown text preprocessing {style!r}; known: {sorted(STYLES)}")
    return text


def normalize_word(style: str, word: str) -> str:
    """One word of a tagged text; it may become several words, never none."""
    return normalize_text(style, word) or word
