"""Language names in Spanish and langdetect's fast first opinion."""

from __future__ import annotations

import threading

from bot.engine.results import LabelScore

LANGUAGE_NAMES_ES: dict[str, str] = {
    "af": "afrikáans", "ar": "árabe", "bg": "búlgaro", "bn": "bengalí", "ca": "catalán",
    "cs": "checo", "cy": "galés", "da": "danés", "de": "alemán", "el": "griego",
    "en": "inglés", "es": "español", "et": "estonio", "eu": "euskera", "fa": "persa",
    "fi": "finés", "fr": "francés", "gl": "gallego", "gu": "guyaratí", "he": "hebreo",
    "hi": "hindi", "hr": "croata", "hu": "húngaro", "id": "indonesio", "it": "italiano",
    "ja": "japonés", "kn": "canarés", "ko": "coreano", "lt": "lituano", "lv": "letón",
    "mk": "macedonio", "ml": "malayalam", "mr": "maratí", "ne": "nepalí", "nl": "neerlandés",
    "no": "noruego", "pa": "panyabí", "pl": "polaco", "pt": "portugués", "ro": "rumano",
    "ru": "ruso", "sk": "eslovaco", "sl": "esloveno", "so": "somalí", "sq": "albanés",
    "sv": "sueco", "sw": "suajili", "ta": "tamil", "te": "telugu", "th": "tailandés",
    "tl": "tagalo", "tr": "turco", "uk": "ucraniano", "ur": "urdu", "vi": "vietnamita",
    "zh": "chino", "zh-cn": "chino", "zh-tw": "chino tradicional",
}

_lock = threading.Lock()


def language_name(code: str) -> str:
    """The Spanish name of a language code, or the code itself when unknown."""
    return LANGUAGE_NAMES_ES.get(code.lower(), code)


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
    result = []
    for guess in guesses:
        code = "zh" if guess.lang.startswith("zh") else guess.lang
        result.append(LabelScore(code, float(guess.prob), language_name(code)))
    return result
