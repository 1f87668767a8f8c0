"""Answers that grow: partial results reach the request that owns each row, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import torch

from bot.config import Settings
from bot.engine import Engine, InferenceBackend
from bot.engine.remote import RemoteEngine
from bot.engine.results import GeneratedText, Summary, Translation
from bot.engine.streaming import BatchStreamer, PartialStream, RowStream
from bot.progress import growing, reporting_to
from tests.engine.harness import before_forward, hold_forward, wait_for


class Recorder:
    """A sink that keeps every partial text it is shown, like an adapter would render them."""

    def __init__(self) -> None:
        self.partials: list[str] = []

    def show(self, text: str) -> None:
        """Progress (a model's first load) is not what this test watches."""

    def grow(self, text: str) -> None:
        self.partials.append(text)


async def run_growing(
    engine: InferenceBackend, task: str, text: str, **params: Any
) -> tuple[Any, Recorder]:
    """One request as a handler makes it: its own sink, its partials rendered as plain text."""
    sink = Recorder()
    with reporting_to(sink), growing(lambda partial: partial.text):
        [result] = await engine.run(task, [text], **params)
    return result, sink


def batch_sizes(engine: Engine, task: str) -> list[int]:
    """The size of every forward the task runs from now on."""
    sizes: list[int] = []
    before_forward(engine, task, lambda features: sizes.append(len(features)))
    return sizes


@pytest.mark.parametrize("draw", ["greedy", "seeded", "sampled"])
async def test_two_batched_poems_grow_apart_in_order(
    make_settings: Callable[..., Settings], draw: str
) -> None:
    engine = Engine(make_settings())
    try:
        await engine.preload(["poem"])
        sizes = batch_sizes(engine, "poem")
        entered, release = hold_forward(engine, "poem")
        busy = asyncio.create_task(engine.run("poem", ["ocupa el modelo"], max_new_tokens=1))
        await wait_for(entered)  # the two requests below queue up meanwhile, and batch
        params: dict[str, Any] = {"max_new_tokens": 80, "do_sample": draw != "greedy"}
        if draw == "seeded":
            params["seed"] = 7
        prompts = ["Verde que te quiero verde,", "La luna vino a la fragua"]
        growing_ones = [
            asyncio.create_task(run_growing(engine, "poem", prompt, **params)) for prompt in prompts
        ]
        await asyncio.sleep(0.2)
        release.set()
        await busy
        outcomes = await asyncio.gather(*growing_ones)
    finally:
        await engine.close()

    assert sizes == [1, 2], "both requests must share one forward for this test to mean anything"
    for prompt, (poem, sink) in zip(prompts, outcomes, strict=True):
        assert isinstance(poem, GeneratedText) and poem.new_tokens > 1
        assert sink.partials, "no partial poem arrived while it was written"
        assert len(set(sink.partials)) == len(sink.partials)  # each one newer than the last
        for earlier, later in zip(sink.partials, [*sink.partials[1:], poem.text], strict=True):
            assert later.startswith(earlier)  # in order, and only ever growing
        assert all(p.startswith(prompt) for p in sink.partials)  # never the other row's


async def test_a_long_translation_grows_piece_by_piece(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Engine(make_settings(batch_max_size=2))
    text = "\n\n".join(f"Hola {n}, el tren sale a las ocho." for n in range(6))  # 6 pieces
    try:
        translation, sink = await run_growing(engine, "translate_es_en", text)
    finally:
        await engine.close()
    assert isinstance(translation, Translation) and translation.pieces > 2
    assert sink.partials, "no piece arrived before the whole translation"
    for earlier, later in zip(sink.partials, sink.partials[1:], strict=False):
        assert later.startswith(earlier) and later != earlier
    assert translation.text.startswith(sink.partials[-1])


async def test_a_long_summary_shows_its_chunk_summaries_as_they_come(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Engine(make_settings(batch_max_size=1))
    text = " ".join(f"El tren número {n} sale de Madrid a las ocho." for n in range(100))
    try:
        summary, sink = await run_growing(engine, "summarize", text, max_new_tokens=8)
    finally:
        await engine.close()
    assert isinstance(summary, Summary) and summary.chunks > 1
    assert sink.partials, "no chunk summary arrived before the summary"
    for earlier, later in zip(sink.partials, sink.partials[1:], strict=False):
        assert later.startswith(earlier.rstrip("."))


async def test_the_ray_backend_streams_nothing_and_still_answers(model_server: Settings) -> None:
    remote = RemoteEngine(model_server)
    try:
        poem, sink = await run_growing(remote, "poem", "La luna", max_new_tokens=8)
    finally:
        await remote.close()
    assert isinstance(poem, GeneratedText) and poem.text.startswith("La luna")
    assert sink.partials == []  # the final result only


async def test_without_a_listener_nothing_is_attached(engine: Engine) -> None:
    seen: list[dict[str, Any]] = []
    before_forward(engine, "poem", lambda features: seen.extend(f.meta for f in features))
    await engine.run("poem", ["Hola"], max_new_tokens=2)
    assert seen and all("stream" not in meta for meta in seen)


async def test_the_batch_streamer_cuts_each_row_at_its_end_and_skips_the_prompt() -> None:
    got: dict[int, list[list[int]]] = {0: [], 1: []}

    async def word(raws: list[Any]) -> list[Any]:
        return raws

    stream = PartialStream(lambda i, ids: got[i].append(ids), word, rows=2)
    streamer = BatchStreamer([RowStream(stream, 0), RowStream(stream, 1)], stop_ids={0})
    streamer.put(torch.tensor([[5, 6], [7, 8]]))  # the prompts
    for step in ([1, 2], [0, 3], [0, 4]):  # row 0 ends at its stop id; what follows is padding
        streamer.put(torch.tensor(step))
        await asyncio.sleep(0.3)  # one delivery per step (STREAM_EVERY_S)
    streamer.end()
    stream.close()
    assert got == {0: [[1]], 1: [[2], [2, 3], [2, 3, 4]]}
