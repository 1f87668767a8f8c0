"""Realistic Spanish chat inputs, cut to the short (5-20 tokens) and long (40-100 tokens) mixes.

Token counts are measured with the benchmark's own tokenizer (the small offline stand-ins), not
guessed: a message counts as short or long by the ids the model will actually read. The
stand-ins split Spanish into more pieces than the real tokenizers, so a real tokenizer would
need somewhat longer messages for the same counts; compute, which is what is timed, follows ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from bot.engine.results import QAInput, ZeroShotInput

MIXES: dict[str, tuple[int, int]] = {"short": (5, 20), "long": (40, 100)}
"""Mix name -> inclusive range of user-text tokens."""

ZERO_SHOT_LABELS = ("deportes", "política", "tecnología")
"""Three labels: zero-shot costs one forward row per label."""

SHORT_MESSAGES = [
    "Vale, gracias.",
    "¿Vienes?",
    "Jajaja, qué bueno.",
    "Buenos días.",
    "Ya voy.",
    "¡Qué guay!",
    "Sí, claro.",
    "Hasta mañana.",
    "¿Y tú?",
    "Me parece bien.",
    "¿Qué tal estás?",
    "Hola a todos, ¿cómo va el día?",
    "Mañana no puedo ir a clase.",
    "¿Alguien tiene el número de Lucía?",
    "El partido empieza a las nueve.",
    "Qué ganas de vacaciones, de verdad.",
    "¿Dónde quedamos esta tarde?",
    "Me encanta esta canción 😊",
    "Llego tarde, hay mucho tráfico.",
    "¿Has visto las noticias de hoy?",
    "El Gobierno aprobó la nueva ley ayer.",
    "Mi móvil nuevo va rapidísimo.",
    "Feliz cumpleaños, María 🎉",
    "¿Cuánto cuesta el billete a Sevilla?",
    "Hoy hace un calor horrible en Madrid.",
    "No me funciona el wifi otra vez.",
    "El Real Madrid ganó por dos a cero.",
    "¿Vienes a cenar el viernes?",
    "Gracias por la ayuda, de verdad.",
    "La reunión se ha cambiado al lunes.",
    "Qué buena pinta tiene esa paella.",
    "¿Me pasas los apuntes de historia?",
    "Las elecciones son en noviembre.",
    "He terminado el libro, es buenísimo.",
    "Nos vemos en la estación a las ocho.",
    "El nuevo ordenador no arranca.",
    "¿Quién gana la liga este año?",
    "Perdón, me quedé dormido.",
    "Mi abuela cocina las mejores croquetas.",
    "Está lloviendo muchísimo en Bilbao.",
    "Oye, ¿al final quién se encarga de comprar las bebidas para la fiesta?",
    "Acabo de salir del trabajo, en media hora estoy en tu casa.",
    "¿Sabéis si el museo abre los domingos por la tarde o solo por la mañana?",
    "No os olvidéis de traer los libros de matemáticas mañana, que hay examen.",
    "El médico me ha dicho que descanse un par de días y beba mucha agua.",
    "¿Alguien ha probado el restaurante nuevo de la esquina? Dicen que está muy bien.",
    "Mi hermano se casa en junio y todavía no tengo ni idea de qué ponerme.",
    "Han subido otra vez el precio del alquiler y ya no sé qué hacer.",
]

LONG_MESSAGES = [
    "Ayer fuimos al concierto del parque y estuvo genial. Tocaron casi todas las canciones "
    "del disco nuevo y al final sacaron a un invitado sorpresa. Lo malo fue la vuelta, porque "
    "el metro iba llenísimo y tardamos más de una hora en llegar a casa.",
    "Os cuento lo del viaje: salimos el viernes temprano hacia Granada, paramos a comer en "
    "Jaén y por la tarde vimos la Alhambra. El sábado subimos a Sierra Nevada y el domingo "
    "volvimos cansadísimos pero muy contentos.",
    "El Gobierno ha presentado hoy los presupuestos del año que viene. Suben las pensiones y "
    "el gasto en sanidad, pero la oposición dice que las cuentas no cuadran y que la deuda "
    "seguirá creciendo. El debate en el Congreso empieza la semana próxima.",
    "No sé qué ordenador comprarme para la universidad. Necesito algo ligero, con buena "
    "batería y que aguante programas de diseño. He mirado un par de portátiles, pero son "
    "carísimos y no sé si merece la pena gastar tanto.",
    "El partido de anoche fue increíble. El equipo local iba perdiendo por dos goles en el "
    "descanso, pero en la segunda parte salió con otra actitud, empató en diez minutos y "
    "marcó el tercero en el último minuto de la prórroga.",
    "Mañana es la reunión de vecinos y hay que decidir lo del ascensor. La empresa pide "
    "bastante dinero por arreglarlo y algunos prefieren cambiarlo entero. Por favor, venid "
    "todos, que si no, no hay mayoría para aprobar nada.",
    "La receta es muy fácil: se pican la cebolla y el pimiento, se sofríen con aceite de "
    "oliva, se añade el arroz y se rehoga un par de minutos. Luego se echa el caldo caliente "
    "y se deja a fuego medio unos veinte minutos sin remover.",
    "He leído que la nueva inteligencia artificial puede traducir conversaciones en tiempo "
    "real. Parece útil para viajar, aunque me preocupa qué hacen las empresas con todo lo "
    "que grabamos. Habría que leer bien las condiciones antes de usarla.",
]

QA_SHORT = [
    ("¿Quién vino?", "Vino Pedro."),
    ("¿Qué hora es?", "Son las dos."),
    ("¿Dónde está?", "Está en casa."),
    ("¿Dónde vive Ana?", "Ana vive en Madrid."),
    ("¿Cuándo es el examen?", "El examen es el lunes."),
    ("¿Quién ganó?", "Ganó el equipo de Sevilla."),
    ("¿Qué compró Luis?", "Luis compró pan y queso."),
    ("¿A qué hora sale el tren?", "El tren sale a las ocho."),
    ("¿Cómo se llama el perro?", "El perro se llama Toby."),
]

POEM_SHORT = [
    "Verde que te quiero verde,",
    "Caminante, no hay camino,",
    "La luna sobre el río",
    "En la orilla del mar",
    "Volverán las oscuras golondrinas",
    "Era un día de otoño",
]


@dataclass
class Workload:
    """One mix of requests for a task: the inputs, their token counts and the task's params."""

    task: str
    mix: str
    inputs: list[Any]
    tokens: list[int]
    params: dict[str, Any]


def _count(tokenizer: Any, text: str) -> int:
    """User-text tokens, without the model's special tokens."""
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _sentences(text: str) -> list[str]:
    """Sentences of a long message, so one can be cut to a token budget at a sentence end."""
    parts, start = [], 0
    for i, char in enumerate(text):
        if char in ".!?" and (i + 1 == len(text) or text[i + 1] == " "):
            parts.append(text[start : i + 1].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def _long_texts(tokenizer: Any, rng: random.Random, count: int, low: int, high: int) -> list[str]:
    """Messages of `low`..`high` tokens: whole sentences, joined across messages if needed."""
    pool = [s for message in LONG_MESSAGES for s in _sentences(message)] + SHORT_MESSAGES
    texts: list[str] = []
    attempts = 0
    while len(texts) < count:
        attempts += 1
        if attempts > 100 * count:
            raise ValueError(f"cannot build {low}-{high} token texts with this tokenizer")
        target = rng.randint(low, high)
        start = rng.randrange(len(pool))
        text = ""
        for offset in range(len(pool)):
            candidate = f"{text} {pool[(start + offset) % len(pool)]}".strip()
            if _count(tokenizer, candidate) > high:
                break
            text = candidate
            if _count(tokenizer, text) >= target:
                break
        if low <= _count(tokenizer, text) <= high:
            texts.append(text)
    return texts


def _short_texts(
    tokenizer: Any, rng: random.Random, pool: list[str], count: int, low: int, high: int
) -> list[str]:
    """`count` messages from the pool whose token counts fall in the range, in random order."""
    fitting = [text for text in pool if low <= _count(tokenizer, text) <= high]
    if not fitting:
        raise ValueError(f"no message of {low}-{high} tokens with this tokenizer")
    return [rng.choice(fitting) for _ in range(count)]


def make_workload(
    task: str, mix: str, tokenizer: Any, count: int, new_tokens: int | None, seed: int = 7
) -> Workload:
    """`count` inputs of one mix for one task, with the params that fix generation lengths."""
    rng = random.Random(f"{seed}-{task}-{mix}")
    low, high = MIXES[mix]
    params: dict[str, Any] = {}
    if new_tokens is not None:
        params["max_new_tokens"] = new_tokens
    if task == "poem":
        params.update(do_sample=True)  # as /poema asks: drawn, no seed, batched across chats
    if task == "summarize" and new_tokens is not None:
        params["min_new_tokens"] = new_tokens
    if task == "language":
        params["fast"] = False
    if task == "qa":
        inputs: list[Any] = _qa_inputs(tokenizer, rng, mix, count, low, high)
        tokens = [_count(tokenizer, q.question) + _count(tokenizer, q.context) for q in inputs]
        return Workload(task, mix, inputs, tokens, params)
    if mix == "short":
        pool = POEM_SHORT + SHORT_MESSAGES if task == "poem" else SHORT_MESSAGES
        texts = _short_texts(tokenizer, rng, pool, count, low, high)
    else:
        texts = _long_texts(tokenizer, rng, count, low, high)
    if task == "fill_mask":  # one word of each message becomes the blank
        texts = [_blank_one_word(text, rng) for text in texts]
    tokens = [_count(tokenizer, text) for text in texts]
    if task == "zero_shot":
        inputs = [ZeroShotInput(text, ZERO_SHOT_LABELS) for text in texts]
    else:
        inputs = list(texts)
    return Workload(task, mix, inputs, tokens, params)


def _blank_one_word(text: str, rng: random.Random) -> str:
    words = text.split()
    words[rng.randrange(len(words))] = "<mask>"
    return " ".join(words)


def _qa_inputs(
    tokenizer: Any, rng: random.Random, mix: str, count: int, low: int, high: int
) -> list[QAInput]:
    """Question plus context, counted together against the mix's range."""
    if mix == "short":
        fitting = [
            QAInput(q, c) for q, c in QA_SHORT if low <= _count(tokenizer, f"{q} {c}") <= high
        ]
        if not fitting:
            raise ValueError(f"no QA pair of {low}-{high} tokens with this tokenizer")
        return [rng.choice(fitting) for _ in range(count)]
    inputs = []
    for _ in range(count):
        question = rng.choice(QA_SHORT)[0]
        asked = _count(tokenizer, question)
        context = _long_texts(tokenizer, rng, 1, max(1, low - asked), high - asked)[0]
        inputs.append(QAInput(question, context))
    return inputs
