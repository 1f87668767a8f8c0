"""langdetect's fast first opinion on a text's language, as ISO 639 codes."""

from __future__ import annotations

import threading

from bot.engine.results import LabelScore

_lock = threading.Lock()


def detect_fast(text: str) -> list[LabelScore]:
    """langdetect's guesses, best first; empty when the text has no letters to go on."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:  # langdetect's factory is global and seeded once
        DetectorFactory.seed = 0
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            return []
    # langdetect splits Chinese into zh-cn and zh-tw; the classifier has one "zh".
    return [
        LabelScore("zh" if guess.lang.startswith("zh") else guess.lang, float(guess.prob))
        for guess in guesses
    ]
