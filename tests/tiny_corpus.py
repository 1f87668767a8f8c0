"""A small deterministic Spanish/English corpus the tiny stand-ins' tokenizers are trained on.

Templates filled from short word lists cover many word forms, accents, numbers and punctuation
cheaply; fixed lines add emoji, hashtags and typography. Seeded, so every build sees the same text.
"""

from __future__ import annotations

import random

CORPUS_SEED = 1234
"""Fixed so that two builds of a tokenizer see the same corpus."""

SPANISH_SUBJECTS = [
    "María", "El niño", "La señora Núñez", "Mi abuela", "El profesor", "Íñigo", "La médica",
    "Un pájaro", "El perro de Ángel", "Nuestra vecina", "Sofía", "El capitán", "La compañía",
    "Los estudiantes", "Mis amigos", "Óscar", "La canción", "El camión", "Begoña", "Tú",
]  # fmt: skip
_ES_VERBS = [
    "come", "lee", "escribe", "compra", "busca", "encontró", "prepara", "miró", "pintó",
    "quiere", "vendió", "cantó", "necesita", "construyó", "limpia", "explicó", "trajo",
]  # fmt: skip
_ES_OBJECTS = [
    "una manzana", "el periódico", "una carta", "pan y queso", "las llaves", "un libro viejo",
    "la paella", "el teléfono", "una canción triste", "el jardín", "café con leche",
    "la lección", "un regalo", "los zapatos", "el coche azul", "una piña", "el pingüino",
]  # fmt: skip
_ES_PLACES = [
    "en Madrid", "en la cocina", "en el parque", "en Bogotá", "en la montaña", "en España",
    "en el mercado", "en la biblioteca", "en Córdoba", "en la playa", "en México",
    "en el tren", "junto al río", "en Perú", "en la oficina",
]  # fmt: skip
_ES_TIMES = [
    "hoy", "ayer", "mañana", "por la tarde", "el lunes", "en otoño", "a las 8:30",
    "cada día", "el 12 de marzo", "en 1998", "durante la noche", "el año pasado",
]  # fmt: skip
_ES_ADJECTIVES = [
    "bonito", "difícil", "rápido", "fácil", "rico", "útil", "increíble", "aburrido",
    "fantástico", "pequeño", "enorme", "simpático",
]  # fmt: skip
_ES_QUESTIONS = [
    "¿Dónde está {s}?", "¿Quién {v} {o}?", "¿Cuándo llegó {s}?", "¿Por qué {v} {o} {s}?",
    "¿Cuántos años tiene {s}?", "¿Qué {v} {s} {t}?", "¿Cómo se llama {s}?",
]  # fmt: skip
_ES_TEMPLATES = [
    "{S} {v} {o} {p} {t}.",
    "{T}, {s} {v} {o}.",
    "¡Qué {a} es {o}!",
    "{S} no {v} {o}, pero {p} sí.",
    "Dicen que {s} {v} {o} {p}.",
    "{S} {v} {n} euros {p}.",
    "¡Hola! {S} {v} {o} {t}, ¿verdad?",
    "El tren sale a las {h} y llega {p}.",
    "{S} tiene {n} años y vive {p}.",
    "«{S} {v} {o}», dijo el periodista.",
]  # fmt: skip

_EN_SUBJECTS = [
    "John", "The teacher", "My grandmother", "A little bird", "Our neighbour", "The captain",
    "The students", "Sarah", "The company", "His brother", "The old man", "You", "Emma",
]  # fmt: skip
_EN_VERBS = [
    "eats", "reads", "writes", "bought", "found", "cooks", "painted", "wants", "sold",
    "sang", "needs", "built", "cleans", "explained", "brought", "likes",
]  # fmt: skip
_EN_OBJECTS = [
    "an apple", "the newspaper", "a letter", "bread and cheese", "the keys", "an old book",
    "the phone", "a sad song", "the garden", "black coffee", "the lesson", "a present",
    "the shoes", "the blue car", "a pineapple",
]  # fmt: skip
_EN_PLACES = [
    "in London", "in the kitchen", "at the park", "in New York", "on the mountain",
    "at the market", "in the library", "at the beach", "on the train", "by the river",
    "in the office",
]  # fmt: skip
_EN_TIMES = [
    "today", "yesterday", "tomorrow", "in the evening", "on Monday", "in autumn", "at 8:30",
    "every day", "on March 12", "in 1998", "last year",
]  # fmt: skip
_EN_TEMPLATES = [
    "{S} {v} {o} {p} {t}.",
    "{T}, {s} {v} {o}.",
    "What a {a} day!",
    "Where is {s}?",
    "Why {s} {v} {o}?",
    "{S} {v} {n} dollars {p}.",
    "Hello! {S} {v} {o} {t}, right?",
    "The train leaves at {h} and arrives {p}.",
    "{S} is {n} years old and lives {p}.",
    "\"{S} {v} {o},\" said the reporter.",
]  # fmt: skip
_EN_ADJECTIVES = ["beautiful", "difficult", "quick", "easy", "useful", "boring", "great"]

_FIXED_SPANISH = [
    "¿Qué tal estás? ¡Muy bien, gracias!",
    "El pingüino y la cigüeña comen ñoquis en Añón de Moncayo.",
    "ÁÉÍÓÚ áéíóú ÑñÜü ¿¡ «» — … ºª €",
    "La capital de Francia es París y la de Perú es Lima.",
    "Mi número de teléfono es 91 234 56 78; mi código postal, 28013.",
    "El 3,14 es aproximadamente pi; 2 + 2 = 4.",
    "Me encanta este día 😊 #felicidad @amiga",
    "Qué asco de tráfico 😡 otra vez tarde...",
    "No sé qué pensar de la película, ni buena ni mala.",
    "Érase una vez un árbol que hablaba con las estrellas.",
    "En un lugar de la Mancha, de cuyo nombre no quiero acordarme.",
    "Verde que te quiero verde, verde viento, verdes ramas.",
    "Caminante, no hay camino, se hace camino al andar.",
    "Hoy, 1 de enero de 2025, hace 15 °C (¡qué calor!).",
]  # fmt: skip
_FIXED_ENGLISH = [
    "I love this song so much! :)",
    "This is the worst service ever.",
    "The quick brown fox jumps over the lazy dog.",
    "It's 5 o'clock somewhere; let's go!",
    "On 1 January 2025 it was 15 °C (what a heat wave!).",
]  # fmt: skip


def _fill(template: str, rng: random.Random, spanish: bool) -> str:
    """Instantiate one template so that the corpus covers many word forms cheaply."""
    subjects = SPANISH_SUBJECTS if spanish else _EN_SUBJECTS
    subject = rng.choice(subjects)
    lowered = (
        subject if subject[0].isupper() and " " not in subject else subject[0].lower() + subject[1:]
    )
    time = rng.choice(_ES_TIMES if spanish else _EN_TIMES)
    return template.format(
        S=subject,
        s=lowered,
        v=rng.choice(_ES_VERBS if spanish else _EN_VERBS),
        o=rng.choice(_ES_OBJECTS if spanish else _EN_OBJECTS),
        p=rng.choice(_ES_PLACES if spanish else _EN_PLACES),
        t=time,
        T=time[0].upper() + time[1:],
        a=rng.choice(_ES_ADJECTIVES if spanish else _EN_ADJECTIVES),
        n=rng.randint(0, 2024),
        h=f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}",
    )


def _generated(spanish: bool, count: int, seed: int) -> list[str]:
    """Template sentences in one language, seeded so every build sees the same corpus."""
    rng = random.Random(seed)
    templates = _ES_TEMPLATES + _ES_QUESTIONS if spanish else _EN_TEMPLATES
    return [_fill(rng.choice(templates), rng, spanish) for _ in range(count)]


def spanish_corpus(count: int = 240) -> list[str]:
    """Spanish sentences only: the source side of es->en and the Spanish-only models."""
    return _FIXED_SPANISH + _generated(True, count, CORPUS_SEED)


def english_corpus(count: int = 160) -> list[str]:
    """English sentences only: the source side of en->es and the target side of es->en."""
    return _FIXED_ENGLISH + _generated(False, count, CORPUS_SEED + 1)


def corpus() -> list[str]:
    """A deterministic mixed corpus (~420 lines, mostly Spanish) for the multilingual tokenizers."""
    return spanish_corpus() + english_corpus()
