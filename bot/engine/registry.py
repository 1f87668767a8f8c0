"""The one table of tasks: key -> task class, its arguments and the default model.

Plain data that imports neither torch nor transformers: the bot, the console and a remote
backend read task metadata without loading the engine's heavy half.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine.errors import UnknownTask

if TYPE_CHECKING:
    from bot.engine.tasks.base import Task

_TASKS = "bot.engine.tasks"


@dataclass(frozen=True)
class TaskSpec:
    key: str
    description: str
    default_model: str
    # "module:Class" under bot.engine.tasks (or a dotted "package.module:Class" elsewhere),
    # imported on first use.
    task_class: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelTraits:
    """How a model was trained to be used, where that differs from the plain defaults."""

    # Text normalisation the model saw in training, applied before tokenisation:
    # "" (none) or "pysentimiento" (handles, URLs, emoji as Spanish words, repeated letters).
    text_preprocessing: str = ""


# Known models' traits, by hub id. A local folder configured for a task is taken to be a copy
# of that task's default model (what `prefetch` or a manual download gives).
MODEL_TRAITS: dict[str, ModelTraits] = {
    "pysentimiento/robertuito-pos": ModelTraits(text_preprocessing="pysentimiento"),
    "pysentimiento/robertuito-sentiment-analysis": ModelTraits(text_preprocessing="pysentimiento"),
}

HALF_PRECISION_UNSAFE = frozenset({"mt5", "t5"})
"""Model types known to overflow in float16 (NaN or garbage): they run in bfloat16 or float32."""


SPECS: dict[str, TaskSpec] = {
    spec.key: spec
    for spec in [
        TaskSpec(
            "translate_es_en",
            "translation Spanish to English",
            "Helsinki-NLP/opus-mt-es-en",
            "translation:TranslationTask",
            {"source": "es", "target": "en"},
        ),
        TaskSpec(
            "translate_en_es",
            "translation English to Spanish",
            "Helsinki-NLP/opus-mt-en-es",
            "translation:TranslationTask",
            {"source": "en", "target": "es"},
        ),
        TaskSpec(
            "summarize",
            "abstractive summary in Spanish",
            "csebuetnlp/mT5_multilingual_XLSum",
            "summarization:SummarizationTask",
        ),
        TaskSpec(
            "qa",
            "extractive question answering",
            "PlanTL-GOB-ES/roberta-base-bne-sqac",
            "question_answering:QuestionAnsweringTask",
        ),
        TaskSpec(
            "zero_shot",
            "zero-shot classification",
            "Recognai/zeroshot_selectra_medium",
            "zero_shot:ZeroShotTask",
        ),
        TaskSpec(
            "fill_mask", "masked word completion", "xlm-roberta-base", "fill_mask:FillMaskTask"
        ),
        TaskSpec(
            "poem",
            "text generation (poems)",
            "ismaelfaro/gpt2-poems.es",
            "text_generation:TextGenerationTask",
        ),
        TaskSpec(
            "pos",
            "part-of-speech tagging",
            "pysentimiento/robertuito-pos",
            "pos_tagging:PosTaggingTask",
        ),
        TaskSpec(
            "sentiment",
            "sentiment (POS/NEG/NEU)",
            "pysentimiento/robertuito-sentiment-analysis",
            "text_classification:TextClassificationTask",
        ),
        TaskSpec(
            "language",
            "language identification",
            "papluca/xlm-roberta-base-language-detection",
            "language:LanguageTask",
        ),
        TaskSpec(
            "transcribe",
            "speech to text (voice notes)",
            "openai/whisper-small",
            "transcription:TranscriptionTask",
        ),
    ]
}

TASK_KEYS: tuple[str, ...] = tuple(SPECS)
"""The built-in task keys, in registry order."""


def task_keys() -> tuple[str, ...]:
    """Every registered task key now, including rows added after import."""
    return tuple(SPECS)


def get_spec(key: str) -> TaskSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise UnknownTask(key) from None


def model_id(key: str, configured: str = "") -> str:
    """The model a task uses: the configured hub id or folder, else the registry default."""
    return configured.strip() or get_spec(key).default_model


def traits_for(key: str, configured: str = "") -> ModelTraits:
    """The traits of the model a task uses; a local folder inherits its task default's."""
    from pathlib import Path

    model = model_id(key, configured)
    if model in MODEL_TRAITS:
        return MODEL_TRAITS[model]
    if not Path(model).expanduser().is_dir():
        return ModelTraits()
    # A folder named after a known model (a copy, or the hub cache's models--org--name) is that
    # model; any other folder is taken for a copy of the task's default.
    path = model.lower().replace("--", "/")
    for known in (*MODEL_TRAITS, *SEED_MODELS.values()):
        if known.split("/")[-1].lower() in path:
            return MODEL_TRAITS.get(known, ModelTraits())
    return MODEL_TRAITS.get(get_spec(key).default_model, ModelTraits())


SEED_MODELS: dict[str, str] = {
    "summarize": "josmunpen/mt5-small-spanish-summarization",
    "zero_shot": "Recognai/bert-base-spanish-wwm-cased-xnli",
    "sentiment": "finiteautomata/bertweet-base-sentiment-analysis",
}
"""The first version's models where the default changed; still selectable with MODEL_<KEY>."""


def create_task(key: str) -> Task:
    """A task object for a key; imports its module lazily so unused tasks cost nothing."""
    spec = get_spec(key)
    module_name, class_name = spec.task_class.split(":")
    if "." not in module_name:
        module_name = f"{_TASKS}.{module_name}"
    module = importlib.import_module(module_name)
    task: Task = getattr(module, class_name)(**spec.kwargs)
    return task
