"""Spanish or English? The translation direction decided from the words themselves.

langdetect weighs dozens of languages and wavers on a few words ("hola" comes out Welsh, "hello"
Finnish), but translating only needs to tell Spanish from English. Everyday words of each
language, Spanish spelling (ñ, accents, ¿ ¡), English contractions and typical endings decide
at once; a text with no such evidence is left undecided for the language model to settle.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

EsEn = Literal["es", "en"]


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Words shared by both languages ("a", "no", "me", "he", "come", "son", "red", "once", "real",
# "hotel", ...) are in neither list: they are no evidence.
SPANISH_WORDS = _words(
    """
    de la que el en y los se del las un por con una su para es al lo como más pero sus le ya
    o este esta estos estas ese esa eso esto sí porque entre cuando muy sin sobre también hasta
    hay donde dónde quien quién desde todo toda todos todas nos durante uno unos unas les ni
    contra otro otra otros otras ante ellos ellas qué cuál cual cómo cuándo cuánto yo tú él
    mí ti te tu tus mi mis nosotros vosotros os mucho mucha muchos muchas nada poco algo alguien
    nadie está están estoy estás estamos soy eres somos ser estar fue era eran tengo tiene tienes
    tenemos hace hacer hoy ayer mañana ahora aquí allí ahí nunca siempre bien mal bueno buena
    buenos buenas malo mala días día noches noche tarde tardes gracias hola adiós vale claro
    perdón favor amigo amiga amigos quiero quieres puedo puedes vamos voy vas va gato perro agua
    comer casa feliz señor señora padre madre hermano hermana hijo hija año años gente cosa
    dónde sé ver decir dice dijo tiempo vida mundo hombre mujer niño niña trabajo ciudad
    país palabra gusta encanta encantó libro película canción comida verdad entonces además
    después antes luego pues hola buenísimo genial guapo guapa chico chica tío tía
    """
)
ENGLISH_WORDS = _words(
    """
    the be to of and in that have i it for not on with as you do at this but his by from they
    we say her she or an will my one all would there their what so up out if about who get
    which go when make can like time just him know take people into year your good some could
    them see other than then now look only its over think also back after use two how our work
    first well way even new want because any these give day most us is are was were am been has
    had does did hello hi hey thanks thank please love yes okay ok bye goodbye sorry morning
    night friend friends where why here very much today tomorrow yesterday cat dog water eat
    house happy mother father brother sister weather nice great beautiful really never always
    something nothing everyone life world man woman child city country word book movie song food
    """
)
# Greetings and courtesies people translate on their own: one of them decides by itself.
STRONG_WORDS = {
    "hola": "es", "gracias": "es", "vale": "es", "adiós": "es", "perdón": "es", "buenas": "es",
    "hello": "en", "thanks": "en", "thank": "en", "please": "en", "ok": "en", "okay": "en",
    "hi": "en", "bye": "en", "sorry": "en", "the": "en", "i": "en", "you": "en",
}  # fmt: skip

SPANISH_LETTERS = re.compile(r"[ñáéíóúü¿¡]")
ENGLISH_CONTRACTION = re.compile(r"\b\w+'(?:t|s|m|re|ll|ve|d)\b")
SPANISH_ENDINGS = ("ción", "ciones", "mente", "idad", "ando", "iendo", "amos", "emos", "aba")
ENGLISH_ENDINGS = ("ing", "tion", "tions", "ness", "ful", "ly", "ight", "ould")
ENGLISH_LETTERS = ("w", "k", "th", "sh", "oo", "ee")

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
SURE_MARGIN = 1.0
"""Evidence of one Spanish-only (or English-only) word with nothing against it decides."""


@dataclass(frozen=True)
class EsEnGuess:
    """The evidence for each language; `language` is None when there is none at all."""

    spanish: float
    english: float

    @property
    def language(self) -> EsEn | None:
        if self.spanish == self.english:
            return None
        return "es" if self.spanish > self.english else "en"

    @property
    def sure(self) -> bool:
        return abs(self.spanish - self.english) >= SURE_MARGIN


def guess_spanish_or_english(text: str) -> EsEnGuess:
    """Weighs each word's evidence for Spanish against English; needs no model."""
    lowered = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    spanish = 2.0 * min(3, len(SPANISH_LETTERS.findall(lowered)))
    english = 2.0 * min(3, len(ENGLISH_CONTRACTION.findall(lowered)))
    for word in WORD.findall(lowered):
        strong = STRONG_WORDS.get(word)
        if strong is not None:
            spanish, english = (spanish + 2, english) if strong == "es" else (spanish, english + 2)
        elif word in SPANISH_WORDS:
            spanish += 1
        elif word in ENGLISH_WORDS:
            english += 1
        else:
            spanish += 0.5 * word.endswith(SPANISH_ENDINGS)
            english += 0.5 * (
                word.endswith(ENGLISH_ENDINGS)
                or any(letters in word for letters in ENGLISH_LETTERS)
            )
    return EsEnGuess(spanish, english)
