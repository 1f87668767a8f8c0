"""Tiny, randomly initialised stand-ins for every model Tertulia uses, built offline.

Each builder writes a complete model folder (tokenizer + weights + generation config) that the
production loading code can open with the same Auto classes it uses for the real Hub models, so
tests exercise real tokenizers, real architectures and real I/O without any network access.
"""

from __future__ import annotations

import io
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch
import transformers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from tokenizers.implementations import ByteLevelBPETokenizer, SentencePieceBPETokenizer
from tokenizers.trainers import BpeTrainer
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertTokenizer,
    BertweetTokenizer,
    GenerationConfig,
    GPT2Config,
    GPT2LMHeadModel,
    GPT2Tokenizer,
    MarianConfig,
    MarianMTModel,
    MarianTokenizer,
    MT5Config,
    MT5ForConditionalGeneration,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaForQuestionAnswering,
    RobertaForSequenceClassification,
    RobertaForTokenClassification,
    RobertaTokenizer,
    T5Tokenizer,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaForSequenceClassification,
    XLMRobertaTokenizer,
)

transformers.utils.logging.disable_progress_bar()

SEED = 1234
"""Fixed seed so that two builds of the same key produce identical folders."""

HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
MAX_NEW_TOKENS = 16
"""Small default generation length so generation tests stay fast."""

ROBERTA_POSITIONS = 514
"""RoBERTa-style models reserve pad_token_id + 1 = 2 positions: 514 positions hold 512 tokens."""
SHORT_ROBERTA_POSITIONS = 130
"""The tweet models (robertuito, bertweet) have 130 positions, i.e. 128 usable tokens."""

UPOS_TAGS: tuple[str, ...] = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
    "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip
SENTIMENT_LABELS: tuple[str, ...] = ("NEG", "NEU", "POS")
NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")
LANGUAGE_LABELS: tuple[str, ...] = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "it", "ja",
    "nl", "pl", "pt", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------

_ES_SUBJECTS = [
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
    subjects = _ES_SUBJECTS if spanish else _EN_SUBJECTS
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
    return _FIXED_SPANISH + _generated(True, count, SEED)


def english_corpus(count: int = 160) -> list[str]:
    """English sentences only: the source side of en->es and the target side of es->en."""
    return _FIXED_ENGLISH + _generated(False, count, SEED + 1)


def corpus() -> list[str]:
    """A deterministic mixed corpus (~420 lines, mostly Spanish) for the multilingual tokenizers."""
    return spanish_corpus() + english_corpus()


# --------------------------------------------------------------------------------------------
# Tokenizer training helpers
# --------------------------------------------------------------------------------------------


def _train_sentencepiece(lines: list[str], vocab_size: int, **ids: int) -> bytes:
    """Train a unigram SentencePiece model in memory; single thread keeps it deterministic."""
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=buffer,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
        seed_sentencepiece_size=100_000,
        **ids,
    )
    return buffer.getvalue()


def _spm_pieces(model: bytes) -> list[tuple[str, float]]:
    """List (piece, score) of a trained SentencePiece model, in id order."""
    processor = spm.SentencePieceProcessor(model_proto=model)
    return [
        (processor.id_to_piece(i), processor.get_score(i))
        for i in range(processor.get_piece_size())
    ]


def _spm_charsmap(model: bytes) -> bytes:
    """Extract the NFKC normalisation table so the fast tokenizer normalises like the real ones."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model)
    return proto.normalizer_spec.precompiled_charsmap


def _byte_level_bpe(
    lines: list[str], vocab_size: int, special_tokens: list[str]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a GPT-2/RoBERTa style byte-level BPE and return (vocab, merges as tuples)."""
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(
        lines,
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=special_tokens,
        show_progress=False,
    )
    state = json.loads(trainer._tokenizer.to_str())
    vocab: dict[str, int] = state["model"]["vocab"]
    return vocab, [_pair(m) for m in state["model"]["merges"]]


_PRIVATE_USE = 0xF0000


def _marked_bpe(
    words: list[list[str]], marked: Callable[[int, int], bool], vocab_size: int
) -> tuple[list[tuple[str, bool]], list[tuple[tuple[str, bool], tuple[str, bool]]]]:
    """BPE with marked positions ('##' or '</w>') that, unlike the trainers', is reproducible."""
    # The tokenizers trainers give '##x' / 'x</w>' tokens ids in hash-map order, so WordPiece and
    # suffixed BPE results change from run to run (tie-breaking follows ids). Instead each marked
    # character is swapped for a private-use character, a plain BPE (whose alphabet is sorted, so
    # deterministic) is trained, and tokens are mapped back as (text, is_marked) pairs.
    chars = sorted({c for line in words for word in line for c in word})
    to_private = {c: chr(_PRIVATE_USE + i) for i, c in enumerate(chars)}
    from_private = {v: k for k, v in to_private.items()}
    encoded = [
        " ".join(
            "".join(to_private[c] if marked(i, len(word)) else c for i, c in enumerate(word))
            for word in line
        )
        for line in words
    ]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    bpe.train_from_iterator(
        encoded, BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False)
    )
    state = json.loads(bpe.to_str())

    def decode(token: str) -> tuple[str, bool]:
        """Undo the private-use swap, remembering whether the token carried the marker."""
        is_marked = any(c in from_private for c in token)
        return "".join(from_private.get(c, c) for c in token), is_marked

    tokens = [decode(t) for t, _ in sorted(state["model"]["vocab"].items(), key=lambda kv: kv[1])]
    merges = [(decode(a), decode(b)) for a, b in (_pair(m) for m in state["model"]["merges"])]
    return tokens, merges


def _pair(merge: str | list[str]) -> tuple[str, str]:
    """Normalise a merge from tokenizer JSON ("a b" in old files, ["a", "b"] in new ones)."""
    a, b = merge.split(" ") if isinstance(merge, str) else merge
    return a, b


def _wordpiece_vocab(words: list[list[str]], vocab_size: int) -> list[str]:
    """A deterministic WordPiece vocabulary ('##' marks word-internal pieces), sorted."""
    tokens, _ = _marked_bpe(words, lambda i, n: i > 0, vocab_size)
    pieces = {"##" + text if is_marked else text for text, is_marked in tokens}
    chars = {c for line in words for word in line for c in word}
    pieces |= chars | {"##" + c for c in chars}  # every character in both positions: no [UNK]
    return sorted(pieces)


# --------------------------------------------------------------------------------------------
# Model helpers
# --------------------------------------------------------------------------------------------


def _seeded(factory: Callable[[], PreTrainedModel]) -> PreTrainedModel:
    """Build a model right after seeding torch, so its random weights are reproducible."""
    torch.manual_seed(SEED)
    model = factory()
    model.eval()
    return model


def _labels(names: tuple[str, ...]) -> dict[str, Any]:
    """Config kwargs for a classification head with the given label names in order."""
    return {
        "id2label": dict(enumerate(names)),
        "label2id": {name: i for i, name in enumerate(names)},
    }


def _encoder_sizes() -> dict[str, int]:
    """The tiny dimensions shared by all BERT-like encoders."""
    return {
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE,
    }


def _save(folder: Path, tokenizer: Any, model: PreTrainedModel) -> Path:
    """Write tokenizer and model side by side, as a Hub repository would hold them."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def _roberta_bpe_tokenizer(
    lines: list[str], model_max_length: int, vocab_size: int = 700
) -> RobertaTokenizer:
    """Byte-level BPE laid out like roberta-base (<s>=0, <pad>=1, <mask> last) for offsets."""
    vocab, merges = _byte_level_bpe(lines, vocab_size, ["<s>", "<pad>", "</s>", "<unk>"])
    vocab = dict(vocab)
    vocab["<mask>"] = len(vocab)
    return RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)


def _xlmr_tokenizer(lines: list[str]) -> XLMRobertaTokenizer:
    """An XLM-R SentencePiece tokenizer laid out <s>, <pad>, </s>, <unk>, pieces..., <mask>."""
    model = _train_sentencepiece(lines, 600, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
    pieces = _spm_pieces(model)[1:]  # drop the trainer's own <unk>, re-added below in XLM-R order
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), *pieces, ("<mask>", 0.0)]
    return XLMRobertaTokenizer(
        vocab=vocab,
        _spm_precompiled_charsmap=_spm_charsmap(model),
        model_max_length=ROBERTA_POSITIONS - 2,
    )


# --------------------------------------------------------------------------------------------
# Builders, one per task key
# --------------------------------------------------------------------------------------------


def _build_marian(folder: Path, source: list[str], target: list[str]) -> Path:
    """Marian translator in opus-mt's layout: source.spm, target.spm, one shared vocab.json."""
    source_model = _train_sentencepiece(source, 400, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
    target_model = _train_sentencepiece(target, 400, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for model in (source_model, target_model):
        for piece, _ in _spm_pieces(model):
            vocab.setdefault(piece, len(vocab))
    pad_id = len(vocab)
    vocab["<pad>"] = pad_id  # opus-mt puts <pad> last (58100 in the real models)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "source.spm").write_bytes(source_model)
        (work / "target.spm").write_bytes(target_model)
        (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        tokenizer = MarianTokenizer(
            source_spm=str(work / "source.spm"),
            target_spm=str(work / "target.spm"),
            vocab=str(work / "vocab.json"),
            model_max_length=512,
        )
        config = MarianConfig(
            vocab_size=len(vocab),
            d_model=HIDDEN,
            encoder_layers=LAYERS,
            decoder_layers=LAYERS,
            encoder_attention_heads=HEADS,
            decoder_attention_heads=HEADS,
            encoder_ffn_dim=INTERMEDIATE,
            decoder_ffn_dim=INTERMEDIATE,
            max_position_embeddings=512,
            activation_function="swish",
            scale_embedding=True,
            pad_token_id=pad_id,
            eos_token_id=0,
            decoder_start_token_id=pad_id,
            forced_eos_token_id=0,
        )
        model = _seeded(lambda: MarianMTModel(config))
        model.generation_config = GenerationConfig(
            max_new_tokens=MAX_NEW_TOKENS,
            num_beams=1,
            pad_token_id=pad_id,
            eos_token_id=0,
            decoder_start_token_id=pad_id,
            forced_eos_token_id=0,
            bad_words_ids=[[pad_id]],
        )
        return _save(folder, tokenizer, model)


def build_translate_es_en(folder: Path) -> Path:
    """Stand-in for Helsinki-NLP/opus-mt-es-en (Spanish source, English target)."""
    return _build_marian(folder, spanish_corpus(), english_corpus())


def build_translate_en_es(folder: Path) -> Path:
    """Stand-in for Helsinki-NLP/opus-mt-en-es (English source, Spanish target)."""
    return _build_marian(folder, english_corpus(), spanish_corpus())


def build_summarize(folder: Path) -> Path:
    """Stand-in for josmunpen/mt5-small-spanish-summarization: mT5 with a T5 unigram tokenizer."""
    model_bytes = _train_sentencepiece(
        spanish_corpus(), 600, pad_id=0, eos_id=1, unk_id=2, bos_id=-1
    )
    tokenizer = T5Tokenizer(
        vocab=_spm_pieces(model_bytes),
        extra_ids=0,
        _spm_precompiled_charsmap=_spm_charsmap(model_bytes),
        model_max_length=512,
    )
    config = MT5Config(
        vocab_size=len(tokenizer),
        d_model=HIDDEN,
        d_kv=HIDDEN // HEADS,
        d_ff=INTERMEDIATE,
        num_layers=LAYERS,
        num_decoder_layers=LAYERS,
        num_heads=HEADS,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        tie_word_embeddings=False,
    )
    model = _seeded(lambda: MT5ForConditionalGeneration(config))
    model.generation_config = GenerationConfig(
        max_new_tokens=MAX_NEW_TOKENS, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0
    )
    return _save(folder, tokenizer, model)


def _qa_config(vocab_size: int, max_positions: int) -> RobertaConfig:
    """RoBERTa QA config sized like the others; pad id 1 as in roberta-base-bne."""
    return RobertaConfig(
        vocab_size=vocab_size,
        max_position_embeddings=max_positions,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        **_encoder_sizes(),
    )


def build_qa(folder: Path) -> Path:
    """Stand-in for PlanTL-GOB-ES/roberta-base-bne-sqac: extractive QA with offsets support."""
    tokenizer = _roberta_bpe_tokenizer(corpus(), ROBERTA_POSITIONS - 2)
    model = _seeded(
        lambda: RobertaForQuestionAnswering(_qa_config(len(tokenizer), ROBERTA_POSITIONS))
    )
    return _save(folder, tokenizer, model)


def build_zero_shot(folder: Path) -> Path:
    """Stand-in for Recognai/bert-base-spanish-wwm-cased-xnli: cased WordPiece BERT NLI."""
    splitter = pre_tokenizers.BertPreTokenizer()
    words = [[w for w, _ in splitter.pre_tokenize_str(line)] for line in corpus()]
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {token: i for i, token in enumerate(specials + _wordpiece_vocab(words, 700))}
    tokenizer = BertTokenizer(
        vocab=vocab, do_lower_case=False, strip_accents=False, model_max_length=512
    )
    config = BertConfig(
        vocab_size=len(vocab),
        max_position_embeddings=512,
        pad_token_id=vocab["[PAD]"],
        **_encoder_sizes(),
        **_labels(NLI_LABELS),
    )
    model = _seeded(lambda: BertForSequenceClassification(config))
    return _save(folder, tokenizer, model)


def _xlmr_config(tokenizer: XLMRobertaTokenizer, **extra: Any) -> XLMRobertaConfig:
    """XLM-R config matching the tokenizer's ids and roberta's 514 positions."""
    return XLMRobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=ROBERTA_POSITIONS,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **_encoder_sizes(),
        **extra,
    )


def build_fill_mask(folder: Path) -> Path:
    """Stand-in for xlm-roberta-base masked language model."""
    tokenizer = _xlmr_tokenizer(corpus())
    model = _seeded(lambda: XLMRobertaForMaskedLM(_xlmr_config(tokenizer)))
    return _save(folder, tokenizer, model)


def build_language(folder: Path) -> Path:
    """Stand-in for papluca/xlm-roberta-base-language-detection (20 language labels)."""
    tokenizer = _xlmr_tokenizer(corpus())
    config = _xlmr_config(tokenizer, **_labels(LANGUAGE_LABELS))
    model = _seeded(lambda: XLMRobertaForSequenceClassification(config))
    return _save(folder, tokenizer, model)


def build_poem(folder: Path) -> Path:
    """Stand-in for ismaelfaro/gpt2-poems.es: GPT-2 with pad = eos so batching works."""
    vocab, merges = _byte_level_bpe(spanish_corpus(), 600, [])
    vocab = dict(vocab)
    vocab["<|endoftext|>"] = len(vocab)  # GPT-2 keeps it last (50256)
    tokenizer = GPT2Tokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    tokenizer.pad_token = tokenizer.eos_token
    eos = tokenizer.eos_token_id
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=1024,
        n_embd=HIDDEN,
        n_layer=LAYERS,
        n_head=HEADS,
        n_inner=INTERMEDIATE,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    model = _seeded(lambda: GPT2LMHeadModel(config))
    model.generation_config = GenerationConfig(
        max_new_tokens=MAX_NEW_TOKENS, bos_token_id=eos, eos_token_id=eos, pad_token_id=eos
    )
    return _save(folder, tokenizer, model)


def build_pos(folder: Path) -> Path:
    """Stand-in for pysentimiento/robertuito-pos: SentencePiece-BPE fast tokenizer, UPOS head."""
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    sp_bpe = SentencePieceBPETokenizer(unk_token="<unk>")
    # robertuito is uncased: lowercase before training so capitals do not become <unk>.
    sp_bpe.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    sp_bpe.train_from_iterator(
        corpus(),
        vocab_size=700,
        min_frequency=2,
        special_tokens=specials,
        show_progress=False,
    )
    backend: Tokenizer = sp_bpe._tokenizer
    backend.post_processor = processors.RobertaProcessing(
        ("</s>", backend.token_to_id("</s>")), ("<s>", backend.token_to_id("<s>"))
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=SHORT_ROBERTA_POSITIONS - 2,
    )
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=SHORT_ROBERTA_POSITIONS,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **_encoder_sizes(),
        **_labels(UPOS_TAGS),
    )
    model = _seeded(lambda: RobertaForTokenClassification(config))
    return _save(folder, tokenizer, model)


def _fastbpe_files(lines: list[str]) -> tuple[list[str], list[str]]:
    """Train fastBPE-style vocab.txt / bpe.codes lines (subwords end in '@@', codes use '</w>')."""
    words = [line.split() for line in lines]  # BertweetTokenizer splits on whitespace only
    tokens, merges = _marked_bpe(words, lambda i, n: i == n - 1, 700)

    def codes_form(token: str, final: bool) -> str:
        """fastBPE codes spell a word-final symbol with a trailing </w>."""
        return token + "</w>" if final else token

    vocab_lines = [f"{token if final else token + '@@'} 1" for token, final in tokens]
    code_lines = [f"{codes_form(*a)} {codes_form(*b)} 1" for a, b in merges]
    return vocab_lines, code_lines


def build_sentiment(folder: Path) -> Path:
    """Stand-in for finiteautomata/bertweet-base-sentiment-analysis (fastBPE, NEG/NEU/POS)."""
    vocab_lines, code_lines = _fastbpe_files(corpus())
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "vocab.txt").write_text("\n".join(vocab_lines) + "\n", encoding="utf-8")
        (work / "bpe.codes").write_text("\n".join(code_lines) + "\n", encoding="utf-8")
        tokenizer = BertweetTokenizer(
            vocab_file=str(work / "vocab.txt"),
            merges_file=str(work / "bpe.codes"),
            normalization=False,
            model_max_length=SHORT_ROBERTA_POSITIONS - 2,
        )
        config = RobertaConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=SHORT_ROBERTA_POSITIONS,
            type_vocab_size=1,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            **_encoder_sizes(),
            **_labels(SENTIMENT_LABELS),
        )
        model = _seeded(lambda: RobertaForSequenceClassification(config))
        _save(folder, tokenizer, model)
    # BertweetTokenizer.save_vocabulary (transformers 5.24) writes merges without the count
    # column that its own loader strips, so a saved-then-loaded tokenizer loses every merge.
    # Write fastBPE's real format, as the Hub repository has it.
    (folder / "bpe.codes").write_text("\n".join(code_lines) + "\n", encoding="utf-8")
    return folder


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "translate_es_en": build_translate_es_en,
    "translate_en_es": build_translate_en_es,
    "summarize": build_summarize,
    "qa": build_qa,
    "zero_shot": build_zero_shot,
    "fill_mask": build_fill_mask,
    "poem": build_poem,
    "pos": build_pos,
    "sentiment": build_sentiment,
    "language": build_language,
}
TASK_KEYS: tuple[str, ...] = tuple(BUILDERS)


def build_all(root: Path) -> dict[str, Path]:
    """Build every task's tiny model under root/<key>; returns key -> folder."""
    return {key: builder(root / key) for key, builder in BUILDERS.items()}


# --------------------------------------------------------------------------------------------
# A QA model with a known answer, and a broken folder
# --------------------------------------------------------------------------------------------


def build_controlled_qa(
    folder: Path, answer_word: str, *, max_positions: int = ROBERTA_POSITIONS
) -> Path:
    """A RoBERTa QA model that answers exactly `answer_word`, so QA code can be tested for real."""
    # Attention and FFN outputs are zeroed, so (post-LN) each token's final state is LayerNorm of
    # its own word embedding; only `answer_word`'s embedding is positive in dimension 0, which both
    # start and end logits read. `max_positions` (RoBERTa style: usable tokens + 2) sets the window.
    lines = corpus()
    rng = random.Random(SEED)
    # Make the word frequent both sentence-initially and after a space so BPE merges it whole.
    lines += [f"{answer_word} {rng.choice(lines)}" for _ in range(60)]
    lines += [f"{rng.choice(_ES_SUBJECTS)} {answer_word} {answer_word}." for _ in range(60)]
    tokenizer = _roberta_bpe_tokenizer(lines, max_positions - 2, vocab_size=800)
    answer_ids = {
        ids[0]
        for text in (answer_word, f" {answer_word}")
        if len(ids := tokenizer(text, add_special_tokens=False)["input_ids"]) == 1
    }
    if len(answer_ids) != 2:
        raise ValueError(f"{answer_word!r} did not become a single token; pick a simpler word")
    model = _seeded(lambda: RobertaForQuestionAnswering(_qa_config(len(tokenizer), max_positions)))
    with torch.no_grad():
        embeddings = model.roberta.embeddings
        words = embeddings.word_embeddings.weight
        words.normal_(0.0, 0.02)
        words[:, 0] = -1.0
        for token_id in answer_ids:
            words[token_id] = 0.0
            words[token_id, 0] = 10.0
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        for layer in model.roberta.encoder.layer:
            for dense in (layer.attention.output.dense, layer.output.dense):
                dense.weight.zero_()
                dense.bias.zero_()
        model.qa_outputs.weight.zero_()
        model.qa_outputs.weight[:, 0] = 1.0
        model.qa_outputs.bias.zero_()
    _check_controlled_qa(tokenizer, model, answer_word)
    return _save(folder, tokenizer, model)


def _check_controlled_qa(
    tokenizer: RobertaTokenizer, model: RobertaForQuestionAnswering, answer_word: str
) -> None:
    """Fail the build, not a later test, if the weight surgery stops pinning the answer."""
    context = f"Dicen que {answer_word} es la respuesta, no otra."
    encoded = tokenizer("¿Cuál es?", context, return_offsets_mapping=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping")[0]
    in_context = torch.tensor([s == 1 for s in encoded.sequence_ids(0)])
    with torch.no_grad():
        output = model(**encoded)
    start = int(output.start_logits[0].masked_fill(~in_context, -1e9).argmax())
    end = int(output.end_logits[0].masked_fill(~in_context, -1e9).argmax())
    found = context[int(offsets[start][0]) : int(offsets[end][1])]
    if found != answer_word:
        raise AssertionError(f"controlled QA model answered {found!r}, not {answer_word!r}")


def corrupt_model_folder(folder: Path) -> Path:
    """A folder with a valid tokenizer and config but garbage weights, so model loading raises."""
    folder.mkdir(parents=True, exist_ok=True)
    build_zero_shot(folder)
    (folder / "model.safetensors").write_bytes(b"\x00\x01 this is not a safetensors file " * 8)
    return folder
