"""Poem continuation with a decoder-only model (GPT-2), batched with left padding.

A prompt longer than the model's window minus ``max_new_tokens`` keeps only its last tokens as
model input (truncated=True); the returned text still starts with the whole prompt. Rows are
left-padded with position ids taken from the attention mask, so a prompt gets the same greedy
continuation alone or batched with others. With a ``seed``, each row is sampled alone from its
own freshly seeded RNG (same seed, same poem); without one, sampled rows share a batch. Length,
temperature, top_p and repetition penalty are the model's published ones where it has them
(``DEFAULTS`` otherwise); poems are sampled unless a caller or ``GENERATION_POEM`` says
``do_sample=false``: "Otro" relies on it. A caller that listens (``bot.progress.growing``) gets
each row's text as it is written, token by token.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import torch
from transformers import AutoModelForCausalLM

from bot.engine.results import GeneratedText
from bot.engine.streaming import BatchStreamer
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task, pad_batch
from bot.engine.tasks.checks import (
    MAX_SEED,
    MIN_SEED,
    bool_param,
    check_param_names,
    check_texts,
    float_param,
    optional_int_param,
)
from bot.engine.tasks.generation import published_float, published_new_tokens

DEFAULTS: dict[str, Any] = {
    "max_new_tokens": 60,
    "do_sample": True,
    "temperature": 0.9,
    "top_p": 0.95,
    "seed": None,
    "repetition_penalty": 1.2,
}
"""What a poem gets where neither the caller nor the model says otherwise."""
MAX_NEW_TOKENS = 200
BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0, 10),
    "top_p": (0, 1),
    "repetition_penalty": (0, 10),
}
"""(above, at most) for each number setting."""


def optional_float(params: Mapping[str, Any], name: str) -> float | None:
    """A number setting within its BOUNDS, or None when absent (the model's then)."""
    if params.get(name) is None:
        return None
    above, at_most = BOUNDS[name]
    return float_param(params, name, 0.0, above=above, at_most=at_most)


def new_tokens(lm: LoadedModel, asked: Any) -> int:
    """How many tokens to write: the caller's, else the model's published, else DEFAULTS'."""
    if isinstance(asked, int):
        return asked
    published: int | None = published_new_tokens(lm, "max", MAX_NEW_TOKENS)
    return published or int(DEFAULTS["max_new_tokens"])


def resolved(lm: LoadedModel, params: Mapping[str, Hashable]) -> dict[str, Any]:
    """The forward's settings: the caller's, else the model's published ones, else DEFAULTS."""
    settings: dict[str, Any] = dict(params)
    settings["max_new_tokens"] = new_tokens(lm, params["max_new_tokens"])
    for name, (above, at_most) in BOUNDS.items():
        if settings[name] is None and (name == "repetition_penalty" or settings["do_sample"]):
            value = published_float(lm, name, above, at_most)
            settings[name] = DEFAULTS[name] if value is None else value
    return settings


class TextGenerationTask(Task):
    """The prompt followed by what the model writes next."""

    model_class = AutoModelForCausalLM
    params = frozenset(DEFAULTS)
    grows = True

    def validate(self, inputs: list[Any]) -> None:
        """Prompts must be strings; an empty one starts from scratch."""
        check_texts(inputs, allow_empty=True)

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """All the forward's; None is the model's own; sampling-only ones are None when greedy."""
        check_param_names(params, self.params)
        max_new = optional_int_param(params, "max_new_tokens", 1, MAX_NEW_TOKENS)
        do_sample = bool_param(params, "do_sample", DEFAULTS["do_sample"])
        seed = optional_int_param(params, "seed", MIN_SEED, MAX_SEED)
        temperature = optional_float(params, "temperature")
        top_p = optional_float(params, "top_p")
        return StepParams(
            preprocess={"max_new_tokens": max_new},
            forward={
                "max_new_tokens": max_new,
                "do_sample": do_sample,
                "temperature": temperature if do_sample else None,
                "top_p": top_p if do_sample else None,
                "seed": seed if do_sample else None,
                "repetition_penalty": optional_float(params, "repetition_penalty"),
            },
        )

    def preprocess(
        self, lm: LoadedModel, inputs: list[str], params: Mapping[str, Any]
    ) -> list[Feature]:
        """Token ids of each prompt, keeping the last ones that leave room for the new tokens."""
        tokenizer = lm.tokenizer
        room = max(1, lm.max_length - new_tokens(lm, params["max_new_tokens"]))
        start_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else lm.pad_token_id
        # Read here, where the tokenizer may be touched, for the forward to stop at.
        eos_id = tokenizer.eos_token_id
        features = []
        for index, prompt in enumerate(inputs):
            ids = list(tokenizer(prompt, add_special_tokens=False, verbose=False)["input_ids"])
            meta = {"request": index, "cut": len(ids) > room, "eos": eos_id}
            features.append(Feature(input_ids=ids[-room:] or [start_id], meta=meta))
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """New token ids per row, cut before the first end-of-text."""
        if params["seed"] is None:
            return self._generate(lm, features, params)
        rows = []
        devices = [lm.device] if lm.device.type == "cuda" else []
        for feature in features:  # one RNG stream per prompt: same seed, same poem, any batch
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(int(params["seed"]))  # type: ignore[call-overload]
                rows.extend(self._generate(lm, [feature], params))
        return rows

    def _generate(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[list[int]]:
        """One ``generate`` call over left-padded rows."""
        settings = resolved(lm, params)
        batch = pad_batch(features, lm.pad_token_id, lm.device, left=True)
        mask = batch["attention_mask"]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        eos_id = features[0].meta["eos"]
        options: dict[str, Any] = {
            "max_new_tokens": settings["max_new_tokens"],
            "do_sample": settings["do_sample"],
            "repetition_penalty": settings["repetition_penalty"],
            "num_beams": 1,
            "pad_token_id": lm.pad_token_id,
        }
        if eos_id is not None:
            options["eos_token_id"] = eos_id
        if settings["do_sample"]:
            options.update(temperature=settings["temperature"], top_p=settings["top_p"])
            if params["seed"] is None and getattr(lm.model, "samples_unseeded", False):
                options["seeded"] = False  # no draw to repeat: the runtime's own, batched
        stop_ids = {eos_id} if eos_id is not None else set()
        if (streamer := BatchStreamer.for_features(features, stop_ids)) is not None:
            options["streamer"] = streamer
        output = lm.model.generate(**batch, position_ids=positions, **options)
        width = batch["input_ids"].shape[1]
        rows = []
        for new in output[:, width:].cpu().tolist():
            if eos_id is not None and eos_id in new:
                new = new[: new.index(eos_id)]
            rows.append(new)
        return rows

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[str],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[GeneratedText]:
        """Decode only the new tokens, in context so spaces and accents come out right."""
        results = self.partial(lm, inputs, features, raws, params)
        return [r for r in results if r is not None]

    def partial(
        self,
        lm: LoadedModel,
        inputs: list[str],
        features: list[Feature],
        raws: list[Any | None],
        params: Mapping[str, Any],
    ) -> list[GeneratedText | None]:
        """Each prompt followed by the tokens written so far (all of them once done)."""
        tokenizer = lm.tokenizer
        results: list[GeneratedText | None] = [None] * len(inputs)
        for feature, new in zip(features, raws, strict=True):
            if new is None:
                continue
            options = {"skip_special_tokens": True, "clean_up_tokenization_spaces": False}
            head = tokenizer.decode(feature.input_ids, **options)
            full = tokenizer.decode(feature.input_ids + list(new), **options)
            tail = full[len(head) :] if full.startswith(head) else tokenizer.decode(new, **options)
            prompt = inputs[feature.meta["request"]]
            # A row cut mid-character decodes to a replacement mark: drop it.
            text = prompt + tail.rstrip("\ufffd")
            results[feature.meta["request"]] = GeneratedText(
                text, prompt, len(new), truncated=feature.meta["cut"]
            )
        return results

    def smoke_input(self) -> Any:
        """The opening of a poem."""
        return "Verde que te quiero verde,"
