"""The contract every task module follows, so the engine can batch any of them.

A task turns a list of inputs into a list of results in three steps, like transformers'
``Pipeline``: ``preprocess`` (tokenise, split long texts into features), ``forward`` (one torch
call for a batch of features, possibly from many requests), ``postprocess`` (decode, pick spans,
join pieces).  ``parse_params`` checks the caller's parameters once and splits them by step.
Tokenisers are only touched inside ``ctx.prepare`` and models only inside ``forward``, which
keeps both off the event loop and each on a single thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

import torch

from bot.engine.registry import ModelTraits
from bot.engine.streaming import streaming
from bot.engine.tasks.checks import check_param_names, check_texts

T = TypeVar("T")


@dataclass
class Feature:
    """One row of a forward batch: token ids plus whatever postprocess needs to place it."""

    input_ids: list[int]
    token_type_ids: list[int] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return len(self.input_ids)


@dataclass
class LoadedModel:
    """A model and its tokenizer, ready on a device."""

    key: str
    model_id: str
    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype
    pad_token_id: int
    max_length: int
    traits: ModelTraits = field(default_factory=ModelTraits)
    """How the model was trained to be used (e.g. the text normalisation it expects)."""
    runtime: str = "torch"
    """What runs ``model``: "torch", or a converted copy ("ctranslate2 int8", ...)."""


@dataclass(frozen=True)
class StepParams:
    """A request's parameters, checked once and split by the step that reads them."""

    preprocess: Mapping[str, Any] = field(default_factory=dict)
    forward: Mapping[str, Hashable] = field(default_factory=dict)
    """Only features with equal forward parameters share a batch."""
    postprocess: Mapping[str, Any] = field(default_factory=dict)


class TaskContext(Protocol):
    """What a task may use while it runs; provided by the engine."""

    lm: LoadedModel

    async def prepare(self, fn: Callable[..., T], *args: Any) -> T:
        """Run tokeniser work off the event loop, serialised per model."""
        ...

    async def forward(self, features: list[Feature], params: Mapping[str, Hashable]) -> list[Any]:
        """Run ``task.forward`` on these features, batched with other requests' features."""
        ...


class Task(ABC):
    """One NLP task: how to load its model and the three steps that run it."""

    model_class: ClassVar[Any]
    params: ClassVar[frozenset[str]] = frozenset()
    """The parameter names ``parse_params`` accepts; any other is a mistake."""
    grows: ClassVar[bool] = False
    """Whether ``partial`` can word results while the forward runs (answers that grow)."""

    def load_tokenizer(self, path: str, **kwargs: Any) -> Any:
        """Most tasks load the tokenizer the model folder names."""
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path, **kwargs)

    def max_length(self, model: Any, tokenizer: Any) -> int:
        """The longest sequence a forward may receive, from the model's own config."""
        limits = [getattr(model.config, "max_position_embeddings", None)]
        if getattr(model.config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
            # RoBERTa-style models reserve padding_idx + 1 positions.
            limits = [limits[0] - 2 if limits[0] else None]
        tok_max = getattr(tokenizer, "model_max_length", None)
        if tok_max and tok_max < 100_000:
            limits.append(tok_max)
        usable = [int(x) for x in limits if x]
        return min(usable) if usable else 512

    def validate(self, inputs: list[Any]) -> None:
        """Reject malformed inputs before a model is loaded; most tasks read non-empty texts."""
        check_texts(inputs)

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """Check the caller's parameters and split them by step; raises InvalidInput."""
        check_param_names(params, self.params)
        return StepParams()

    def answer_without_model(self, inputs: list[Any], steps: StepParams) -> list[Any] | None:
        """Results that need no model (e.g. a fast heuristic), or None to run the model."""
        return None

    async def run(self, ctx: TaskContext, inputs: list[Any], steps: StepParams) -> list[Any]:
        """Preprocess, one batched forward for every feature, postprocess: one result per input."""
        features = await ctx.prepare(self.preprocess, ctx.lm, inputs, steps.preprocess)
        with streaming(ctx, self, inputs, features, steps.postprocess):
            raws = await ctx.forward(features, steps.forward) if features else []
        return await ctx.prepare(
            self.postprocess, ctx.lm, inputs, features, raws, steps.postprocess
        )

    def partial(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any | None],
        params: Mapping[str, Any],
    ) -> list[Any | None]:
        """Each input's result so far, from the rows' outputs so far (None: not begun)."""
        return [None] * len(inputs)

    @abstractmethod
    def preprocess(
        self, lm: LoadedModel, inputs: list[Any], params: Mapping[str, Any]
    ) -> list[Feature]:
        """Tokenise inputs into features; each feature's ``meta`` says where it goes back."""

    @abstractmethod
    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """One torch call for a batch; returns one raw output per feature, on the CPU.

        The device worker already runs it under ``torch.inference_mode``.
        """

    @abstractmethod
    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Any]:
        """Turn each feature's raw output back into one result per input, in order."""

    def smoke_input(self) -> Any:
        """A tiny input that must get an answer: ``prefetch --check`` for a task without probes."""
        return "Hola, ¿qué tal estás hoy?"


def pad_batch(
    features: list[Feature], pad_id: int, device: torch.device, left: bool = False
) -> dict[str, torch.Tensor]:
    """Pad features into model inputs; left padding is what decoder-only generation needs."""
    width = max(f.length for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    types = None
    if any(f.token_type_ids is not None for f in features):
        types = torch.zeros((len(features), width), dtype=torch.long)
    for row, feat in enumerate(features):
        n = feat.length
        span = slice(width - n, width) if left else slice(0, n)
        ids[row, span] = torch.tensor(feat.input_ids, dtype=torch.long)
        mask[row, span] = 1
        if types is not None and feat.token_type_ids is not None:
            types[row, span] = torch.tensor(feat.token_type_ids, dtype=torch.long)
    batch = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
    if types is not None:
        batch["token_type_ids"] = types.to(device)
    return batch
