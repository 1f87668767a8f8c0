"""Generation settings a model publishes, and how they rank against everyone else's.

Highest first: the caller's parameters, ``GENERATION_<KEY>`` (the engine merges it into them),
the model's own generation config (``generation_config.json``, or the generation keys of an
older ``config.json``), then the task's fallback. A task leaves an unset parameter as None
until the forward, so every request that sets nothing shares one batch, and reads the model's
value there. Published values are clamped to the task's caps; the keys a task does not pass
(``no_repeat_ngram_size``, ``length_penalty``, ``bad_words_ids``...) ``generate`` reads from
the model's config by itself.
"""

from __future__ import annotations

from typing import Any

from bot.engine.tasks.base import LoadedModel


def lengths_as_new_tokens(model: Any) -> None:
    """Restate a published ``max_length``/``min_length`` as new tokens, once, at load.

    Tasks always pass new-token counts, and ``generate`` warns on every call where the model
    also sets a total length. An encoder-decoder's length counts the decoder start token; a
    decoder-only model's counts the prompt too, so there it says nothing about new tokens.
    """
    config = getattr(model, "generation_config", None)
    if config is None:
        return
    for prefix in ("max", "min"):
        length = getattr(config, f"{prefix}_length", None)
        if length is None:
            continue
        if (
            getattr(config, f"{prefix}_new_tokens", None) is None
            and model.config.is_encoder_decoder
        ):
            setattr(config, f"{prefix}_new_tokens", max(0, int(length) - 1))
        setattr(config, f"{prefix}_length", None)


def published(lm: LoadedModel, name: str) -> Any:
    """A setting the model's generation config sets, or None where it leaves the default."""
    return getattr(lm.model.generation_config, name, None)


def published_int(lm: LoadedModel, name: str, low: int, high: int) -> int | None:
    """An integer setting the model publishes, clamped to the task's caps; None if unset."""
    value = published(lm, name)
    if value is None or isinstance(value, bool):
        return None
    return max(low, min(high, int(value)))


def published_float(lm: LoadedModel, name: str, above: float, at_most: float) -> float | None:
    """A number the model publishes, if it is within the task's bounds; None otherwise."""
    value = published(lm, name)
    if value is None or isinstance(value, bool) or not above < float(value) <= at_most:
        return None
    return float(value)


def published_new_tokens(lm: LoadedModel, prefix: str, high: int) -> int | None:
    """``max_new_tokens`` or ``min_new_tokens`` (``prefix``) as published, capped; None if unset."""
    return published_int(lm, f"{prefix}_new_tokens", 0, high)
