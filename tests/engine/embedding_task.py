"""An eleventh task that lives with the tests: mean-pooled sentence embeddings from an encoder.

It shows what a new task costs: this module and one registry row. The engine's queue, memory
budget and status take it as they take the built-in ones.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from transformers import AutoModel

from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, pad_batch
from bot.engine.tasks.checks import bool_param, check_param_names


@dataclass(frozen=True)
class Embedding:
    """One vector per text; truncated when only the start of the text fitted the window."""

    vector: tuple[float, ...]
    truncated: bool = False


class EmbeddingTask(Task):
    """Text -> the mean of the encoder's last hidden states over its tokens."""

    model_class = AutoModel
    params = frozenset({"normalize"})

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """Only postprocess reads ``normalize``, so requests that differ in it still batch."""
        check_param_names(params, self.params)
        return StepParams(postprocess={"normalize": bool_param(params, "normalize", True)})

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """One feature per text, cut to the window with its closing special token kept."""
        features = []
        for index, text in enumerate(inputs):
            ids = list(lm.tokenizer(text, verbose=False)["input_ids"])
            cut = len(ids) > lm.max_length
            if cut:
                ids = [*ids[: lm.max_length - 1], ids[-1]]
            features.append(Feature(ids, meta={"request": index, "cut": cut}))
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Mean of the hidden states over each row's real tokens (padding left out)."""
        batch = pad_batch(features, lm.pad_token_id, lm.device)
        hidden = lm.model(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        means = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
        return [row.tolist() for row in means.cpu()]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Embedding]:
        """Unit vectors unless asked otherwise, in the order of the inputs."""
        results: list[Embedding] = []
        for feature, vector in zip(features, raws, strict=True):
            norm = math.sqrt(sum(x * x for x in vector)) if params["normalize"] else 1.0
            results.append(Embedding(tuple(x / norm for x in vector), feature.meta["cut"]))
        return results
