"""Speech to text with Whisper: 30 s windows, batched across requests, joined back in order.

Each input (16 kHz mono samples) is cut into Whisper's 30 s windows; each window is one feature
carrying its log-mel spectrogram, so windows of any request share a batch. A batch first asks
the model which language it hears (unless the caller names one), then generates from Whisper's
own prompt: start, language, transcribe, no timestamps. The language is detected rather than
forced to Spanish: a voice note in English or Catalan comes back in its own words, which the
Traducir button can then translate; forcing Spanish makes Whisper translate, badly.
The plain ``GenerationMixin.generate`` runs from that prompt: Whisper's own ``generate`` is a
long-form pipeline (segments, temperature fallbacks) that this task does itself, more simply.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from transformers import AutoModelForSpeechSeq2Seq, GenerationMixin

from bot.engine.errors import InvalidInput
from bot.engine.results import AudioInput, Transcription
from bot.engine.tasks.base import Feature, LoadedModel, StepParams, Task
from bot.engine.tasks.checks import check_items, check_param_names, optional_int_param
from bot.engine.tasks.generation import published_int

SAMPLING_RATE = 16_000
WINDOW_SECONDS = 30
"""Whisper reads 30 s at a time (3000 mel frames); longer audio is cut into windows."""
SILENCE = 1e-4
"""A window whose loudest sample is below this is silence: Whisper would only invent text."""
MAX_BEAMS = 5
PROMPT_TOKENS = 4
"""<|startoftranscript|> <|xx|> <|transcribe|> <|notimestamps|>"""


def window_count(samples: Any) -> int:
    """How many 30 s windows a clip takes."""
    return max(1, -(-len(samples) // (SAMPLING_RATE * WINDOW_SECONDS)))


def _generate(model: Any, **kwargs: Any) -> torch.Tensor:
    """The plain generate from our prompt: a transformers model's own ``generate`` is Whisper's
    long-form pipeline; a converted copy's ``generate`` is already the plain one."""
    if isinstance(model, GenerationMixin):
        return GenerationMixin.generate(model, **kwargs)  # type: ignore[no-any-return]
    result: torch.Tensor = model.generate(**kwargs)
    return result


def _asked_or_published(lm: LoadedModel, asked: Hashable, name: str) -> int:
    """The caller's value, else the model's, else greedy and the whole window; always capped."""
    if name == "num_beams":
        return asked if isinstance(asked, int) else published_int(lm, name, 1, MAX_BEAMS) or 1
    cap = lm.max_length - PROMPT_TOKENS  # the prompt shares the decoder's 448 positions
    return min(asked, cap) if isinstance(asked, int) else published_int(lm, name, 1, cap) or cap


class TranscriptionTask(Task):
    """Transcribe ``AudioInput`` clips with a Whisper model."""

    model_class: ClassVar[Any] = AutoModelForSpeechSeq2Seq
    params: ClassVar[frozenset[str]] = frozenset({"language", "max_new_tokens", "num_beams"})

    def load_tokenizer(self, path: str, **kwargs: Any) -> Any:
        """The tokenizer, carrying the feature extractor that turns samples into log-mels."""
        from transformers import AutoTokenizer, WhisperFeatureExtractor

        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        tokenizer.feature_extractor = WhisperFeatureExtractor.from_pretrained(path)
        return tokenizer

    def max_length(self, model: Any, tokenizer: Any) -> int:
        """The decoder's position table (448 in every Whisper)."""
        return int(model.config.max_target_positions)

    def validate(self, inputs: list[Any]) -> None:
        """Clips of 16 kHz mono samples, at least one sample each."""
        for i, clip in enumerate(check_items(inputs, AudioInput)):
            samples = clip.samples
            if not isinstance(samples, np.ndarray) or samples.ndim != 1 or not len(samples):
                raise InvalidInput(f"input {i} must hold a non-empty 1-D array of samples")
            if clip.sampling_rate != SAMPLING_RATE:
                raise InvalidInput(f"input {i} must be sampled at {SAMPLING_RATE} Hz")

    def parse_params(self, params: Mapping[str, Any]) -> StepParams:
        """Language (None: detected), beams and the length cap are what a batch shares."""
        check_param_names(params, self.params)
        language = params.get("language")
        if language is not None and (not isinstance(language, str) or not language.isalpha()):
            raise InvalidInput(f"language must be a code such as 'es', got {language!r}")
        return StepParams(
            forward={
                "language": language.lower() if language else None,
                "max_new_tokens": optional_int_param(params, "max_new_tokens", 1, 444),
                "num_beams": optional_int_param(params, "num_beams", 1, MAX_BEAMS),
            }
        )

    def smoke_input(self) -> Any:
        """One second of a quiet tone: something to hear, nothing to understand."""
        t = np.arange(SAMPLING_RATE, dtype=np.float32) / SAMPLING_RATE
        return AudioInput((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))

    def answer_without_model(self, inputs: list[Any], steps: StepParams) -> list[Any] | None:
        """Silence has nothing to transcribe: no reason to load a model for it."""
        if any(float(np.max(np.abs(clip.samples))) >= SILENCE for clip in inputs):
            return None
        return [Transcription("", chunks=window_count(clip.samples)) for clip in inputs]

    def preprocess(
        self, lm: LoadedModel, inputs: list[AudioInput], params: Mapping[str, Any]
    ) -> list[Feature]:
        """One feature per non-silent 30 s window, with its log-mel spectrogram."""
        extractor = lm.tokenizer.feature_extractor
        window = SAMPLING_RATE * WINDOW_SECONDS
        start = int(lm.model.generation_config.decoder_start_token_id)
        features: list[Feature] = []
        for index, clip in enumerate(inputs):
            samples = np.asarray(clip.samples, dtype=np.float32)
            for order, begin in enumerate(range(0, len(samples), window)):
                piece = samples[begin : begin + window]
                if float(np.max(np.abs(piece))) < SILENCE:
                    continue
                mel = extractor(piece, sampling_rate=SAMPLING_RATE, return_tensors="np")
                features.append(
                    Feature(
                        [start], meta={"clip": index, "order": order, "mel": mel.input_features[0]}
                    )
                )
        return features

    def forward(
        self, lm: LoadedModel, features: list[Feature], params: Mapping[str, Hashable]
    ) -> list[Any]:
        """Detect each window's language (unless given), then generate its text from the prompt."""
        model = lm.model
        config = model.generation_config
        mels = torch.from_numpy(np.stack([f.meta["mel"] for f in features])).to(lm.device)
        mels = mels.to(lm.dtype) if lm.runtime == "torch" else mels
        language = params["language"]
        if language is None:
            languages = [int(i) for i in model.detect_language(input_features=mels).tolist()]
        else:
            token = config.lang_to_id.get(f"<|{language}|>")
            if token is None:
                raise InvalidInput(f"the model does not know the language {language!r}")
            languages = [int(token)] * len(features)
        task = int(config.task_to_id["transcribe"])
        prompts = [
            [int(config.decoder_start_token_id), lang, task, int(config.no_timestamps_token_id)]
            for lang in languages
        ]
        rows = _generate(
            model,
            input_features=mels,
            decoder_input_ids=torch.tensor(prompts, dtype=torch.long, device=lm.device),
            max_new_tokens=_asked_or_published(lm, params["max_new_tokens"], "max_new_tokens"),
            num_beams=_asked_or_published(lm, params["num_beams"], "num_beams"),
            do_sample=False,
        )
        # Each window's language token, then its generated ids.
        return [[row[1], *row[PROMPT_TOKENS:]] for row in rows.cpu().tolist()]

    def postprocess(
        self,
        lm: LoadedModel,
        inputs: list[Any],
        features: list[Feature],
        raws: list[Any],
        params: Mapping[str, Any],
    ) -> list[Transcription]:
        """Decode each window's text (timestamps dropped) and join the windows in order."""
        config = lm.model.generation_config
        eos = int(config.eos_token_id)
        codes = {token_id: token.strip("<|>") for token, token_id in config.lang_to_id.items()}
        pieces: list[list[tuple[int, str]]] = [[] for _ in inputs]
        heard: list[dict[str, int]] = [{} for _ in inputs]
        truncated = [False] * len(inputs)
        for feature, row in zip(features, raws, strict=True):
            index = feature.meta["clip"]
            language, generated = row[0], row[1:]
            ended = eos in generated
            generated = generated[: generated.index(eos)] if ended else generated
            text_ids = [t for t in generated if t < eos]  # specials and timestamps follow EOS
            text = lm.tokenizer.decode(text_ids, skip_special_tokens=True).strip()
            pieces[index].append((feature.meta["order"], text))
            code = codes.get(language, "")
            heard[index][code] = heard[index].get(code, 0) + 1
            truncated[index] = truncated[index] or not ended
        results = []
        for index, clip in enumerate(inputs):
            texts = [text for _, text in sorted(pieces[index]) if text]
            language = max(heard[index], key=heard[index].__getitem__) if heard[index] else ""
            results.append(
                Transcription(
                    " ".join(texts), language, window_count(clip.samples), truncated[index]
                )
            )
        return results
