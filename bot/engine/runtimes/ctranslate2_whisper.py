"""CTranslate2's Whisper standing in for a transformers Whisper model (speech to text).

It answers the two calls the transcription task makes: ``detect_language`` (the most likely
language token per row, as transformers' ``WhisperForConditionalGeneration.detect_language``)
and a plain ``generate`` from the task's own prompts (start, language, task, no-timestamps),
returning prompt + generated ids as transformers' ``GenerationMixin.generate`` does. Language
detection is the arg-max over the language tokens of the first step's logits, as transformers
does it; CTranslate2's own ``detect_language`` refuses models it does not recognise as
multilingual (4.8.5 said so of the stand-in, whose vocabulary is Whisper's own size). The
audio is encoded once per batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from bot.engine.runtimes.ctranslate2_base import Ct2Model, padded


class Ct2Whisper(Ct2Model):
    """Stands in for ``WhisperForConditionalGeneration`` under CTranslate2."""

    def __init__(self, whisper: Any, *args: Any) -> None:
        super().__init__(*args)
        self.whisper = whisper
        self._encoded: tuple[torch.Tensor, Any] | None = None
        self._languages = sorted(int(i) for i in self.published("lang_to_id", {}).values())

    def _encode(self, input_features: torch.Tensor) -> Any:
        """The encoder's output, computed once for the features of one forward batch."""
        if self._encoded is not None and self._encoded[0] is input_features:
            return self._encoded[1]
        import ctranslate2

        array = np.ascontiguousarray(input_features.detach().cpu().float().numpy())
        encoded = self.whisper.encode(ctranslate2.StorageView.from_array(array), to_cpu=False)
        self._encoded = (input_features, encoded)
        return encoded

    def detect_language(self, input_features: torch.Tensor) -> torch.Tensor:
        """The most likely language token id of each row."""
        start = int(self.published("decoder_start_token_id", self.config.decoder_start_token_id))
        results = self.whisper.generate(
            self._encode(input_features),
            [[start]] * input_features.shape[0],
            beam_size=1,
            max_length=2,  # one step: CTranslate2 decodes at most half of max_length
            suppress_blank=False,
            return_logits_vocab=True,
        )
        ids = self._languages
        return torch.tensor(
            [ids[int(np.argmax(np.asarray(r.logits[0][0])[ids]))] for r in results],
            dtype=torch.long,
        )

    def generate(
        self,
        input_features: torch.Tensor,
        decoder_input_ids: torch.Tensor,
        max_new_tokens: int,
        num_beams: int = 1,
        do_sample: bool = False,
    ) -> torch.Tensor:
        """Prompt + generated ids (end token included when reached), right-padded."""
        if do_sample:
            raise NotImplementedError("sampling is not used for transcription")
        prompts = decoder_input_ids.tolist()
        start_step = len(prompts[0]) - 1
        # CTranslate2 decodes min(max_length / 2, max_length - start_step) tokens.
        length = max(2 * max_new_tokens, max_new_tokens + start_step)
        results = self.whisper.generate(
            self._encode(input_features),
            prompts,
            beam_size=num_beams,
            max_length=length,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        eos = int(self.published("eos_token_id", self.config.eos_token_id))
        rows = []
        for prompt, result in zip(prompts, results, strict=True):
            ids = list(result.sequences_ids[0])[:max_new_tokens]
            ended = len(ids) < max_new_tokens  # stopped by the end token, which is not returned
            rows.append([*prompt, *ids, *([eos] if ended else [])])
        return padded(rows, int(self.published("pad_token_id", eos)))
