"""Tiny, randomly initialised stand-ins for every model Tertulia uses, built offline from facts.

Each default model's published facts are recorded in ``tests/model_facts/<key>.json`` (the first
version's models, where a default changed, in ``seed/<key>.json``). A builder reads them and
writes a complete model folder (tokenizer, weights, generation config) that differs from the real
model only in size and weights: the same architecture class, labels in the same order, position
table, special tokens, tokenizer class and flags, and generation settings. Ids that depend on the
vocabulary (pad, eos, decoder start, banned words) are mapped to the tiny vocabulary by meaning.
The production loading code opens these folders with the same Auto classes as the Hub models.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import (
    AutoConfig,
    BertweetTokenizer,
    GenerationConfig,
    PretrainedConfig,
    PreTrainedModel,
    RobertaTokenizer,
)

from tests.tiny_corpus import SPANISH_SUBJECTS, corpus, english_corpus, spanish_corpus
from tests.tiny_tokenizers import (
    fastbpe_files,
    gpt2_tokenizer,
    marian_tokenizer,
    roberta_bpe_tokenizer,
    robertuito_tokenizer,
    t5_tokenizer,
    whisper_tokenizer,
    wordpiece_tokenizer,
    xlmr_tokenizer,
)

transformers.utils.logging.disable_progress_bar()

Facts = dict[str, Any]

FACTS_DIR = Path(__file__).parent / "model_facts"

SEED = 1234
"""Fixed seed so that two builds of the same key produce identical folders."""

HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
MAX_NEW_TOKENS = 16
"""The poem stand-in's generation length (its real settings are not recorded); tests' cap."""

ROBERTA_POSITIONS = 514
"""RoBERTa-style models reserve pad_token_id + 1 = 2 positions: 514 positions hold 512 tokens."""


# --------------------------------------------------------------------------------------------
# Recorded facts
# --------------------------------------------------------------------------------------------


def load_facts(key: str, *, seed: bool = False) -> Facts:
    """A model's recorded facts: model_facts/<key>.json, or seed/<key>.json for the seed's model."""
    folder = FACTS_DIR / "seed" if seed else FACTS_DIR
    facts: Facts = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    return facts


def fact_labels(facts: Facts) -> tuple[str, ...]:
    """The label names in id order, or () for a model without a classification head."""
    id2label: dict[str, str] = facts.get("id2label") or {}
    return tuple(id2label[str(i)] for i in range(len(id2label)))


POS_LABELS = fact_labels(load_facts("pos"))
SENTIMENT_LABELS = fact_labels(load_facts("sentiment"))
NLI_LABELS = fact_labels(load_facts("zero_shot"))
LANGUAGE_LABELS = fact_labels(load_facts("language"))

_NOT_FLAGS = frozenset({"class", "special_tokens", "special_token_ids", "added_tokens"})
_ROLES = ("pad", "eos", "bos", "unk")
"""Special-token roles in the order that wins when one published id has several (Marian's 0)."""
CONFIG_IDS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")


def tokenizer_flags(facts: Facts) -> dict[str, Any]:
    """The tokenizer flags the facts publish (casing, normalisation, length limit, languages)."""
    published: dict[str, Any] = facts["tokenizer"]
    return {k: v for k, v in published.items() if k not in _NOT_FLAGS and v is not None}


def special_tokens(facts: Facts) -> dict[str, str]:
    """The published special tokens by role name (``pad_token`` -> ``<pad>``), if any."""
    tokens: dict[str, str] = facts["tokenizer"].get("special_tokens") or {}
    return tokens


def published_roles(facts: Facts) -> dict[int, str]:
    """What each published special id stands for (``65000`` -> ``pad``), to find its tiny twin."""
    roles: dict[int, str] = {}
    for role in _ROLES:
        value = facts.get(f"{role}_token_id")
        if value is not None:
            roles.setdefault(int(value), role)
    by_token = {token: name.removesuffix("_token") for name, token in special_tokens(facts).items()}
    for token, value in (facts["tokenizer"].get("special_token_ids") or {}).items():
        if token in by_token:
            roles.setdefault(int(value), by_token[token])
    return roles


def published_tokens(facts: Facts) -> dict[int, str]:
    """The token each published special id is (``50363`` -> ``<|notimestamps|>``)."""
    ids: dict[str, int] = facts["tokenizer"].get("special_token_ids") or {}
    return {int(value): token for token, value in ids.items()}


def tiny_id(facts: Facts, tokenizer: Any, published: int) -> int:
    """The tiny vocabulary's id for a published special id, matched by what the id stands for."""
    role = published_roles(facts).get(int(published))
    value = getattr(tokenizer, f"{role}_token_id", None) if role else None
    token = published_tokens(facts).get(int(published))
    if value is None and token is not None:  # a control token with no role (<|notimestamps|>)
        value = tokenizer.convert_tokens_to_ids(token)
    if value is None:
        raise ValueError(f"{facts['model_id']}: no tiny equivalent for published id {published}")
    return int(value)


def tiny_ids(facts: Facts, tokenizer: Any, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Published settings with every vocabulary-bound id mapped onto the tiny vocabulary."""
    mapped: dict[str, Any] = {}
    for name, value in settings.items():
        if value is None:
            continue
        if name.endswith("_token_id"):
            mapped[name] = tiny_id(facts, tokenizer, value)
        elif name == "bad_words_ids":
            mapped[name] = [[tiny_id(facts, tokenizer, i) for i in words] for words in value]
        else:
            mapped[name] = value
    return mapped


# --------------------------------------------------------------------------------------------
# Configs, models and folders from the facts
# --------------------------------------------------------------------------------------------


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


def tokenizer_options(facts: Facts) -> dict[str, Any]:
    """Constructor arguments that give a tokenizer the published special tokens and flags."""
    return {**special_tokens(facts), **tokenizer_flags(facts)}


def _config(facts: Facts, tokenizer: Any, **defaults: Any) -> PretrainedConfig:
    """The facts' config (labels, positions, special ids) at tiny sizes; `defaults` fill gaps."""
    published = {name: facts.get(name) for name in CONFIG_IDS}
    values = {**defaults, "vocab_size": len(tokenizer), **tiny_ids(facts, tokenizer, published)}
    if facts.get("max_position_embeddings") is not None:
        values["max_position_embeddings"] = facts["max_position_embeddings"]
    labels = fact_labels(facts)
    if labels:
        values |= _labels(labels)
    config: PretrainedConfig = AutoConfig.for_model(facts["model_type"], **values)
    return config


def _model(facts: Facts, config: PretrainedConfig, fallback: str = "") -> PreTrainedModel:
    """The published architecture class, seeded so its random weights are reproducible."""
    model_class = getattr(transformers, facts.get("architecture") or fallback)
    torch.manual_seed(SEED)
    model: PreTrainedModel = model_class(config)
    model.eval()
    return model


def _generation(
    facts: Facts, tokenizer: Any, config: PretrainedConfig, **unpublished: Any
) -> GenerationConfig:
    """The published generation settings (ids mapped); `unpublished` only where none are known."""
    ids = {name: getattr(config, name, None) for name in CONFIG_IDS}
    settings = {name: value for name, value in ids.items() if value is not None}
    published = facts.get("generation")
    settings |= tiny_ids(facts, tokenizer, published) if published else unpublished
    return GenerationConfig(**settings)


def _save(folder: Path, tokenizer: Any, model: PreTrainedModel, facts: Facts) -> Path:
    """Write tokenizer and model side by side, as the Hub repository holds them."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    name = facts["tokenizer"].get("class")
    if name:
        # transformers 5 saves an alias under its base class's name (ElectraTokenizer as
        # BertTokenizer, PreTrainedTokenizerFast as TokenizersBackend): write the published one.
        path = folder / "tokenizer_config.json"
        saved = json.loads(path.read_text(encoding="utf-8"))
        saved["tokenizer_class"] = name
        path.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


# --------------------------------------------------------------------------------------------
# Builders, one per family
# --------------------------------------------------------------------------------------------


def _build_marian(folder: Path, facts: Facts, source: list[str], target: list[str]) -> Path:
    """A Marian translator in opus-mt's layout, with the published beams, length and bans."""
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = marian_tokenizer(source, target, Path(scratch), **tokenizer_options(facts))
        config = _config(
            facts,
            tokenizer,
            d_model=HIDDEN,
            encoder_layers=LAYERS,
            decoder_layers=LAYERS,
            encoder_attention_heads=HEADS,
            decoder_attention_heads=HEADS,
            encoder_ffn_dim=INTERMEDIATE,
            decoder_ffn_dim=INTERMEDIATE,
            max_position_embeddings=512,  # every opus-mt config seen; es-en's is not published
            activation_function="swish",
            scale_embedding=True,
        )
        model = _model(facts, config)
        model.generation_config = _generation(facts, tokenizer, config)
        return _save(folder, tokenizer, model, facts)


def _build_mt5(folder: Path, facts: Facts) -> Path:
    """mT5 with a T5 unigram tokenizer (untied head, as mT5), with the published generation."""
    tokenizer = t5_tokenizer(spanish_corpus(), **tokenizer_options(facts))
    config = _config(
        facts,
        tokenizer,
        d_model=HIDDEN,
        d_kv=HIDDEN // HEADS,
        d_ff=INTERMEDIATE,
        num_layers=LAYERS,
        num_decoder_layers=LAYERS,
        num_heads=HEADS,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        tie_word_embeddings=False,
    )
    model = _model(facts, config)
    model.generation_config = _generation(facts, tokenizer, config)
    return _save(folder, tokenizer, model, facts)


def _build_wordpiece_nli(folder: Path, facts: Facts) -> Path:
    """An NLI classifier over a WordPiece vocabulary: BERT or ELECTRA, as the facts say."""
    options = tokenizer_options(facts)
    roles = ("pad_token", "unk_token", "cls_token", "sep_token", "mask_token")
    tokenizer = wordpiece_tokenizer(corpus(), [options[role] for role in roles], **options)
    # ELECTRA's embedding width is its own setting; SELECTRA's equals its hidden size.
    extra = {"embedding_size": HIDDEN} if facts["model_type"] == "electra" else {}
    config = _config(facts, tokenizer, **_encoder_sizes(), **extra)
    return _save(folder, tokenizer, _model(facts, config), facts)


def _build_xlmr(folder: Path, facts: Facts) -> Path:
    """An XLM-R model (masked LM or classifier, as the facts say) with XLM-R's tokenizer."""
    tokenizer = xlmr_tokenizer(corpus(), **tokenizer_options(facts))
    config = _config(facts, tokenizer, type_vocab_size=1, **_encoder_sizes())
    return _save(folder, tokenizer, _model(facts, config), facts)


def _build_robertuito(folder: Path, facts: Facts, *, lowercase: bool) -> Path:
    """A RoBERTuito model: RoBERTa over tweets, SentencePiece BPE fast tokenizer, 130 positions."""
    tokenizer = robertuito_tokenizer(corpus(), lowercase=lowercase, **tokenizer_options(facts))
    config = _config(facts, tokenizer, type_vocab_size=1, **_encoder_sizes())
    return _save(folder, tokenizer, _model(facts, config), facts)


def _build_bertweet(folder: Path, facts: Facts) -> Path:
    """A BERTweet classifier with a fastBPE vocab.txt + bpe.codes tokenizer."""
    vocab_lines, code_lines = fastbpe_files(corpus())
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "vocab.txt").write_text("\n".join(vocab_lines) + "\n", encoding="utf-8")
        (work / "bpe.codes").write_text("\n".join(code_lines) + "\n", encoding="utf-8")
        tokenizer = BertweetTokenizer(
            vocab_file=str(work / "vocab.txt"),
            merges_file=str(work / "bpe.codes"),
            **tokenizer_options(facts),
        )
        config = _config(facts, tokenizer, type_vocab_size=1, **_encoder_sizes())
        _save(folder, tokenizer, _model(facts, config), facts)
    # BertweetTokenizer.save_vocabulary (transformers 5.24) writes merges without the count
    # column that its own loader strips, so a saved-then-loaded tokenizer loses every merge.
    # Write fastBPE's real format, as the Hub repository has it.
    (folder / "bpe.codes").write_text("\n".join(code_lines) + "\n", encoding="utf-8")
    return folder


# --------------------------------------------------------------------------------------------
# Builders, one per task key
# --------------------------------------------------------------------------------------------


def build_translate_es_en(folder: Path) -> Path:
    """Stand-in for Helsinki-NLP/opus-mt-es-en (Spanish source, English target)."""
    return _build_marian(folder, load_facts("translate_es_en"), spanish_corpus(), english_corpus())


def build_translate_en_es(folder: Path) -> Path:
    """Stand-in for Helsinki-NLP/opus-mt-en-es (English source, Spanish target)."""
    return _build_marian(folder, load_facts("translate_en_es"), english_corpus(), spanish_corpus())


def build_summarize(folder: Path) -> Path:
    """Stand-in for csebuetnlp/mT5_multilingual_XLSum: 4 beams, 84 tokens, no repeated bigram."""
    return _build_mt5(folder, load_facts("summarize"))


def build_qa(folder: Path) -> Path:
    """Stand-in for PlanTL-GOB-ES/roberta-base-bne-sqac: extractive QA with offsets support."""
    facts = load_facts("qa")
    # Its tokenizer files are not recorded: roberta-base's byte-level BPE layout.
    tokenizer = roberta_bpe_tokenizer(corpus(), **tokenizer_options(facts))
    config = _config(facts, tokenizer, type_vocab_size=1, **_encoder_sizes())
    return _save(folder, tokenizer, _model(facts, config), facts)


def build_zero_shot(folder: Path) -> Path:
    """Stand-in for Recognai/zeroshot_selectra_medium: cased WordPiece ELECTRA NLI."""
    return _build_wordpiece_nli(folder, load_facts("zero_shot"))


def build_fill_mask(folder: Path) -> Path:
    """Stand-in for xlm-roberta-base masked language model."""
    return _build_xlmr(folder, load_facts("fill_mask"))


def build_language(folder: Path) -> Path:
    """Stand-in for papluca/xlm-roberta-base-language-detection (20 labels, papluca's order)."""
    return _build_xlmr(folder, load_facts("language"))


def build_poem(folder: Path) -> Path:
    """Stand-in for ismaelfaro/gpt2-poems.es: GPT-2 with <|endoftext|> and no pad token."""
    facts = load_facts("poem")
    tokenizer = gpt2_tokenizer(spanish_corpus(), **tokenizer_options(facts))
    eos = tokenizer.eos_token_id
    # Its config is not recorded: GPT-2's own, where bos = eos = <|endoftext|>.
    config = _config(
        facts,
        tokenizer,
        n_positions=1024,
        n_embd=HIDDEN,
        n_layer=LAYERS,
        n_head=HEADS,
        n_inner=INTERMEDIATE,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    model = _model(facts, config, fallback="GPT2LMHeadModel")
    model.generation_config = _generation(facts, tokenizer, config, max_new_tokens=MAX_NEW_TOKENS)
    return _save(folder, tokenizer, model, facts)


def build_pos(folder: Path) -> Path:
    """Stand-in for pysentimiento/robertuito-pos: cased RoBERTuito with LinCE's B- tags."""
    return _build_robertuito(folder, load_facts("pos"), lowercase=False)  # base: robertuito-cased


def build_sentiment(folder: Path) -> Path:
    """Stand-in for pysentimiento/robertuito-sentiment-analysis: uncased RoBERTuito, NEG/NEU/POS."""
    return _build_robertuito(folder, load_facts("sentiment"), lowercase=True)


def build_transcribe(folder: Path) -> Path:
    """Stand-in for openai/whisper-small: Whisper's tokenizer layout, 80-bin feature extractor,
    the published prompt ids, language and task tables, and 30 s windows (1500 positions)."""
    from transformers import WhisperFeatureExtractor

    facts = load_facts("transcribe")
    whisper = facts["whisper"]
    tokenizer = whisper_tokenizer(spanish_corpus() + english_corpus(), **tokenizer_options(facts))
    begin_suppress = tokenizer.convert_tokens_to_ids(whisper["begin_suppress_tokens"])
    config = _config(
        facts,
        tokenizer,
        d_model=HIDDEN,
        encoder_layers=LAYERS,
        decoder_layers=LAYERS,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        encoder_ffn_dim=INTERMEDIATE,
        decoder_ffn_dim=INTERMEDIATE,
        num_mel_bins=whisper["num_mel_bins"],
        max_source_positions=whisper["max_source_positions"],
        max_target_positions=whisper["max_target_positions"],
        begin_suppress_tokens=begin_suppress,
        suppress_tokens=[],
    )
    model = _model(facts, config)
    generation = _generation(facts, tokenizer, config)
    languages = tokenizer.extra_special_tokens[1 : 1 + whisper["languages"]]
    generation.lang_to_id = {token: tokenizer.convert_tokens_to_ids(token) for token in languages}
    generation.task_to_id = {
        task: tokenizer.convert_tokens_to_ids(f"<|{task}|>") for task in whisper["task_to_id"]
    }
    generation.begin_suppress_tokens = begin_suppress
    generation.suppress_tokens = []
    model.generation_config = generation
    _save(folder, tokenizer, model, facts)
    extractor = {k: v for k, v in whisper["feature_extractor"].items() if k != "class"}
    WhisperFeatureExtractor(**extractor).save_pretrained(folder)
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
    "transcribe": build_transcribe,
}
TASK_KEYS: tuple[str, ...] = tuple(BUILDERS)


def build_all(root: Path) -> dict[str, Path]:
    """Build every task's tiny model under root/<key>; returns key -> folder."""
    return {key: builder(root / key) for key, builder in BUILDERS.items()}


# --------------------------------------------------------------------------------------------
# The first version's models, still selectable with MODEL_<KEY>
# --------------------------------------------------------------------------------------------


def build_seed_sentiment(folder: Path) -> Path:
    """Stand-in for finiteautomata/bertweet-base-sentiment-analysis (fastBPE, NEG/NEU/POS)."""
    return _build_bertweet(folder, load_facts("sentiment", seed=True))


def build_seed_zero_shot(folder: Path) -> Path:
    """Stand-in for Recognai/bert-base-spanish-wwm-cased-xnli: cased WordPiece BERT NLI."""
    return _build_wordpiece_nli(folder, load_facts("zero_shot", seed=True))


def build_seed_summarize(folder: Path) -> Path:
    """Stand-in for josmunpen/mt5-small-spanish-summarization (no generation settings published)."""
    return _build_mt5(folder, load_facts("summarize", seed=True))


SEED_BUILDERS: dict[str, Callable[[Path], Path]] = {
    "sentiment": build_seed_sentiment,
    "zero_shot": build_seed_zero_shot,
    "summarize": build_seed_summarize,
}


def build_seeds(root: Path) -> dict[str, Path]:
    """Build the seed models' stand-ins under root/seed-<key>; returns key -> folder."""
    return {key: builder(root / f"seed-{key}") for key, builder in SEED_BUILDERS.items()}


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
    facts = load_facts("qa")
    lines = corpus()
    rng = random.Random(SEED)
    # Make the word frequent both sentence-initially and after a space so BPE merges it whole.
    lines += [f"{answer_word} {rng.choice(lines)}" for _ in range(60)]
    lines += [f"{rng.choice(SPANISH_SUBJECTS)} {answer_word} {answer_word}." for _ in range(60)]
    tokenizer = roberta_bpe_tokenizer(lines, vocab_size=800, model_max_length=max_positions - 2)
    answer_ids = {
        ids[0]
        for text in (answer_word, f" {answer_word}")
        if len(ids := tokenizer(text, add_special_tokens=False)["input_ids"]) == 1
    }
    if len(answer_ids) != 2:
        raise ValueError(f"{answer_word!r} did not become a single token; pick a simpler word")
    config = _config(facts, tokenizer, type_vocab_size=1, **_encoder_sizes())
    config.max_position_embeddings = max_positions
    model: Any = _model(facts, config)
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
    return _save(folder, tokenizer, model, facts)


def _check_controlled_qa(tokenizer: RobertaTokenizer, model: Any, answer_word: str) -> None:
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
