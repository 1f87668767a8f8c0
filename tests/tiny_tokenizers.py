"""Tokenizers for the tiny stand-ins, trained offline on a small corpus in each family's layout.

Each function returns a transformers tokenizer laid out like the real model's (special tokens and
their order, casing, normalisation); the caller passes the published flags and special tokens as
keyword arguments. Trainers are seeded or made deterministic, so two builds give the same files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sentencepiece as spm
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from tokenizers.implementations import ByteLevelBPETokenizer, SentencePieceBPETokenizer
from tokenizers.trainers import BpeTrainer
from transformers import (
    BertTokenizer,
    GPT2Tokenizer,
    MarianTokenizer,
    PreTrainedTokenizerFast,
    RobertaTokenizer,
    T5Tokenizer,
    XLMRobertaTokenizer,
)

# --------------------------------------------------------------------------------------------
# Trainers
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
# Tokenizers, one per family
# --------------------------------------------------------------------------------------------


def marian_tokenizer(
    source: list[str], target: list[str], work: Path, **options: Any
) -> MarianTokenizer:
    """opus-mt's layout: source.spm, target.spm and one vocab.json (</s>=0, <unk>=1, <pad> last).

    The files are written under `work`, which must outlive the tokenizer's save_pretrained.
    """
    source_model = _train_sentencepiece(source, 400, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
    target_model = _train_sentencepiece(target, 400, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for model in (source_model, target_model):
        for piece, _ in _spm_pieces(model):
            vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)  # opus-mt puts <pad> last (65000 in the es<->en models)
    (work / "source.spm").write_bytes(source_model)
    (work / "target.spm").write_bytes(target_model)
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return MarianTokenizer(
        source_spm=str(work / "source.spm"),
        target_spm=str(work / "target.spm"),
        vocab=str(work / "vocab.json"),
        **options,
    )


def t5_tokenizer(lines: list[str], **options: Any) -> T5Tokenizer:
    """mT5's SentencePiece unigram layout: <pad>=0, </s>=1, <unk>=2, then the pieces."""
    model = _train_sentencepiece(lines, 600, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    return T5Tokenizer(
        vocab=_spm_pieces(model), _spm_precompiled_charsmap=_spm_charsmap(model), **options
    )


def roberta_bpe_tokenizer(
    lines: list[str], vocab_size: int = 700, **options: Any
) -> RobertaTokenizer:
    """Byte-level BPE laid out like roberta-base (<s>=0, <pad>=1, <mask> last), with offsets."""
    vocab, merges = _byte_level_bpe(lines, vocab_size, ["<s>", "<pad>", "</s>", "<unk>"])
    vocab = dict(vocab)
    vocab["<mask>"] = len(vocab)
    return RobertaTokenizer(vocab=vocab, merges=merges, **options)


def xlmr_tokenizer(lines: list[str], **options: Any) -> XLMRobertaTokenizer:
    """An XLM-R SentencePiece tokenizer laid out <s>, <pad>, </s>, <unk>, pieces..., <mask>."""
    model = _train_sentencepiece(lines, 600, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
    pieces = _spm_pieces(model)[1:]  # drop the trainer's own <unk>, re-added below in XLM-R order
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), *pieces, ("<mask>", 0.0)]
    return XLMRobertaTokenizer(
        vocab=vocab, _spm_precompiled_charsmap=_spm_charsmap(model), **options
    )


def gpt2_tokenizer(lines: list[str], **options: Any) -> GPT2Tokenizer:
    """GPT-2's byte-level BPE with <|endoftext|> last (50256 in GPT-2)."""
    vocab, merges = _byte_level_bpe(lines, 600, [])
    vocab = dict(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return GPT2Tokenizer(vocab=vocab, merges=merges, **options)


def wordpiece_tokenizer(lines: list[str], specials: list[str], **options: Any) -> BertTokenizer:
    """A BERT/ELECTRA WordPiece vocabulary with the special tokens first, cased unless told."""
    lowercase = options.get("do_lower_case", True)
    splitter = pre_tokenizers.BertPreTokenizer()
    words = [
        [w.lower() if lowercase else w for w, _ in splitter.pre_tokenize_str(line)]
        for line in lines
    ]
    vocab = {token: i for i, token in enumerate(specials + _wordpiece_vocab(words, 700))}
    return BertTokenizer(vocab=vocab, **options)


def robertuito_tokenizer(
    lines: list[str], *, lowercase: bool, **options: Any
) -> PreTrainedTokenizerFast:
    """RoBERTuito's tokenizer: SentencePiece BPE behind NFKC + BERT normalisation, RoBERTa frame.

    RoBERTuito's training script (pysentimiento/robertuito bin/train_tokenizer.py) normalises
    with NFKC then a BertNormalizer; its uncased models lowercase there (keeping accents), the
    cased one does not.
    """
    sp_bpe = SentencePieceBPETokenizer(unk_token="<unk>")
    sp_bpe.normalizer = normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.BertNormalizer(
                clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=lowercase
            ),
        ]
    )
    sp_bpe.train_from_iterator(
        lines,
        vocab_size=700,
        min_frequency=2,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        show_progress=False,
    )
    backend: Tokenizer = sp_bpe._tokenizer
    # RobertaProcessing takes (sep, cls) positionally.
    backend.post_processor = processors.RobertaProcessing(
        ("</s>", backend.token_to_id("</s>")), ("<s>", backend.token_to_id("<s>"))
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend, **options)


def fastbpe_files(lines: list[str]) -> tuple[list[str], list[str]]:
    """Train fastBPE-style vocab.txt / bpe.codes lines (subwords end in '@@', codes use '</w>')."""
    words = [line.split() for line in lines]  # BertweetTokenizer splits on whitespace only
    tokens, merges = _marked_bpe(words, lambda i, n: i == n - 1, 700)

    def codes_form(token: str, final: bool) -> str:
        """fastBPE codes spell a word-final symbol with a trailing </w>."""
        return token + "</w>" if final else token

    vocab_lines = [f"{token if final else token + '@@'} 1" for token, final in tokens]
    code_lines = [f"{codes_form(*a)} {codes_form(*b)} 1" for a, b in merges]
    return vocab_lines, code_lines


WHISPER_LANGUAGES = 99
"""Multilingual Whisper up to large-v2 has 99 language tokens (large-v3 adds <|yue|>)."""
WHISPER_TIMESTAMPS = 1501
"""<|0.00|> .. <|30.00|> in steps of 0.02 s, after <|notimestamps|>."""
WHISPER_TEXT_TOKENS = 50257
"""Text tokens before <|endoftext|>: the stand-in keeps the real ids (CTranslate2 tells a
multilingual Whisper by its vocabulary size), filling the slots its small BPE does not use."""


def whisper_tokenizer(lines: list[str], **options: Any) -> Any:
    """Whisper's layout: byte-level BPE, then <|endoftext|>, <|startoftranscript|>, the language
    tokens in Whisper's order, the task and control tokens, <|notimestamps|>, the timestamps."""
    from transformers import WhisperTokenizer
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    vocab, merges = _byte_level_bpe(lines, 600, [])
    vocab = dict(vocab)
    for slot in range(len(vocab), WHISPER_TEXT_TOKENS):
        vocab[f"<unused_{slot}>"] = slot  # no merge produces these: never in a tokenised text
    languages = [f"<|{code}|>" for code in list(LANGUAGES)[:WHISPER_LANGUAGES]]
    controls = ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>"]
    controls += ["<|nocaptions|>", "<|notimestamps|>"]
    specials = ["<|endoftext|>", "<|startoftranscript|>", *languages, *controls]
    timestamps = [f"<|{i * 0.02:.2f}|>" for i in range(WHISPER_TIMESTAMPS)]
    for token in [*specials, *timestamps]:
        vocab[token] = len(vocab)
    tokenizer = WhisperTokenizer(
        vocab=vocab, merges=merges, extra_special_tokens=specials[1:], **options
    )
    tokenizer.add_tokens(timestamps)  # plain added tokens, as in the real tokenizer.json
    return tokenizer
