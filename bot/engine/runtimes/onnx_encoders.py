"""ONNX Runtime for the encoder tasks: export once, quantise, and answer like the torch model.

The export uses torch's own exporter (``torch.onnx.export(..., dynamo=True)``, the one PyTorch
and ONNX Runtime document; Optimum, which transformers' guide names, requires transformers 4).
Each head exports only what its task reads: classification and tagging logits, QA start and end
logits, and for a masked LM the vocabulary logits at the mask positions only, so a 250k-word
head is never computed for every token. int8 is ONNX Runtime's dynamic quantisation of the
weights, with activations quantised per token at each call (``quantize_rows_on_their_own``),
so a text's scores never depend on its batch; float32 keeps the exported graph. ORT fuses
attention, layer norm and GELU itself when the session opens.

Threads: the session runs on one thread, and a batch is shared by one worker per thread, each
running the rows of about the same length on its own core with its own padding, instead of
every step being split across the cores. An encoder forward is about 900 small steps, and
waking the other thread for each cost more than it gave: measured on the 2-core CPU
(RoBERTa-base int8, 32 texts of 5-31 tokens), 530 ms on two threads against 357 ms on two
workers of one; a lone text loses a little (10.7 against 14.5 ms).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from bot.engine.runtimes import RuntimePlan
    from bot.engine.tasks.base import Task

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
OPSET = 18
QUANTISER = 2
"""Bumped when the int8 rewrite changes, so cached copies made by an older one are rebuilt."""
EXPORTER = "dynamo"
"""``dynamo`` (torch.export, what PyTorch recommends) or ``torchscript`` (the legacy tracer,
about 20 times faster to export a tiny model; the tests' stand-ins use it)."""

_OUTPUTS = {
    "AutoModelForSequenceClassification": ("logits",),
    "AutoModelForTokenClassification": ("logits",),
    "AutoModelForQuestionAnswering": ("start_logits", "end_logits"),
    "AutoModelForMaskedLM": ("logits",),
}


def converter_version() -> str:
    import onnx
    import onnxruntime

    return (
        f"torch-{torch.__version__} onnx-{onnx.__version__} onnxruntime-{onnxruntime.__version__}"
        f" exporter-{EXPORTER} opset-{OPSET} rows-{QUANTISER}"
    )


def uses_token_types(config: Any) -> bool:
    """BERT-style pair models read segment ids; RoBERTa-style ones have a single type."""
    return int(getattr(config, "type_vocab_size", 0) or 0) > 1


class _Heads(torch.nn.Module):
    """The model with plain tensor inputs and outputs, the shape an exporter wants."""

    def __init__(self, model: Any, outputs: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.outputs = outputs

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        output = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return tuple(output[name] for name in self.outputs)


class _MaskedPositions(torch.nn.Module):
    """A masked LM that scores the vocabulary at given (flattened) positions only."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.base = model.base_model
        head = getattr(model, "lm_head", None)
        self.head = head if head is not None else model.cls

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.base(input_ids=input_ids, attention_mask=attention_mask, **extra)[0]
        flat = hidden.reshape(-1, hidden.shape[-1])
        return self.head(flat[positions])  # type: ignore[no-any-return]


def convert(task: Task, source: str, out: Path, quantization: str) -> None:
    """Export the task's model from ``source`` into ``out``, int8-quantised if asked."""
    model = task.model_class.from_pretrained(source, dtype=torch.float32)
    model.eval()
    kind = task.model_class.__name__
    types = uses_token_types(model.config)
    exported = out / ("float32.onnx" if quantization == "int8" else MODEL_FILE)
    ids = torch.tensor([[5, 6, 7, 8, 9, 10, 11, 12], [5, 6, 7, 8, 9, 10, 1, 1]])
    args: list[torch.Tensor] = [ids, torch.ones_like(ids)]
    names = ["input_ids", "attention_mask"]
    if kind == "AutoModelForMaskedLM":
        wrapper: torch.nn.Module = _MaskedPositions(model)
        args.append(torch.tensor([1, 9, 12]))
        names.append("positions")
        outputs: tuple[str, ...] = ("logits",)
    else:
        outputs = _OUTPUTS[kind]
        wrapper = _Heads(model, outputs)
    if types:
        args.append(torch.zeros_like(ids))
        names.append("token_type_ids")
    _export(wrapper, tuple(args), names, outputs, exported)
    del model, wrapper
    if quantization == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # The quantiser logs every tensor (and a generic advice) on the root logger.
        logging.disable(logging.WARNING)
        try:
            quantize_dynamic(exported, out / MODEL_FILE, weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
        quantize_rows_on_their_own(out / MODEL_FILE)
        for path in out.iterdir():
            if path.name != MODEL_FILE:
                path.unlink()


def quantize_rows_on_their_own(path: Path) -> None:
    """Quantise each token's activations with its own scale, not one scale for the batch.

    ONNX Runtime's dynamic quantisation (``DynamicQuantizeLinear``) scales a whole activation
    tensor at once, so a text's scores would move with its batch neighbours (and their
    padding). Each such node becomes a symmetric per-row quantisation (scale = max|x| / 127,
    zero point 128) feeding the same integer matmul, so a batched text scores exactly as alone.
    The rows are quantised by one per-axis ``QuantizeLinear`` over the tokens flattened to rows:
    the same bytes as dividing, rounding and clipping step by step, in one pass over the
    activations instead of six (12-20 % off a short batch's int8 forward, measured).
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    shared: dict[str, np.ndarray] = {
        "rows_127": np.array(127.0, np.float32),
        "rows_tiny": np.array(1e-12, np.float32),
        "rows_zero_point": np.array(128, np.uint8),
        "rows_last_axis": np.array([-1], np.int64),
        "rows_flat": np.array([-1], np.int64),
    }
    nodes = []
    for n, node in enumerate(graph.node):
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        x, (quantized, scale, zero_point), p = node.input[0], node.output, f"rows{n}_"
        nodes += [
            # max|x| per row without writing |x|: the larger of max(x) and -min(x).
            helper.make_node("ReduceMax", [x, "rows_last_axis"], [p + "hi"], keepdims=1),
            helper.make_node("ReduceMin", [x, "rows_last_axis"], [p + "lo"], keepdims=1),
            helper.make_node("Neg", [p + "lo"], [p + "neg_lo"]),
            helper.make_node("Max", [p + "hi", p + "neg_lo", "rows_tiny"], [p + "range"]),
            helper.make_node("Div", [p + "range", "rows_127"], [scale]),
            # One row per token: x as (rows, width), a 1-D scale and zero point per row.
            helper.make_node("Shape", [x], [p + "shape"]),
            helper.make_node("Shape", [x], [p + "width"], start=-1),
            helper.make_node("Concat", ["rows_flat", p + "width"], [p + "matrix"], axis=0),
            helper.make_node("Reshape", [x, p + "matrix"], [p + "rows"]),
            helper.make_node("Reshape", [scale, "rows_flat"], [p + "row_scale"]),
            helper.make_node("Shape", [p + "row_scale"], [p + "count"]),
            helper.make_node("Expand", ["rows_zero_point", p + "count"], [p + "row_zero"]),
            helper.make_node(
                "QuantizeLinear",
                [p + "rows", p + "row_scale", p + "row_zero"],
                [p + "quantized_rows"],
                axis=0,
            ),
            helper.make_node("Reshape", [p + "quantized_rows", p + "shape"], [quantized]),
            helper.make_node("Identity", ["rows_zero_point"], [zero_point]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in shared.items())
    onnx.save(model, str(path))


def _export(
    wrapper: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    names: list[str],
    outputs: tuple[str, ...],
    path: Path,
) -> None:
    """One ONNX file with batch and length (and mask count) left dynamic."""
    axes = {
        name: ({0: "count"} if name == "positions" else {0: "batch", 1: "length"}) for name in names
    }
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        if EXPORTER == "dynamo":
            _quiet_exporter()
            dynamic = torch.export.Dim.DYNAMIC
            shapes = {name: {axis: dynamic for axis in axes[name]} for name in names}
            program = torch.onnx.export(
                wrapper,
                args,
                input_names=names,
                output_names=list(outputs),
                dynamic_shapes=shapes,
                opset_version=OPSET,
                dynamo=True,
                verbose=False,
            )
            assert program is not None
            program.save(str(path))
        else:
            torch.onnx.export(
                wrapper,
                args,
                str(path),
                input_names=names,
                output_names=list(outputs),
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )


def _quiet_exporter() -> None:
    """The exporter reports every step on the root logger; one line per model is ours."""
    for name in ("torch.onnx", "torch._dynamo", "torch.export", "onnxscript", "onnx_ir"):
        logging.getLogger(name).setLevel(logging.ERROR)


class OnnxEncoder:
    """Stands in for a transformers encoder with a head: called like it, answers like it."""

    def __init__(self, session: Any, config: Any, memory_bytes: int, workers: int = 1) -> None:
        self.session = session
        self.config = config
        self.generation_config = None
        self.memory_bytes = memory_bytes
        self.inputs = {i.name for i in session.get_inputs()}
        self.outputs = [o.name for o in session.get_outputs()]
        # An output with a length axis ("batch", "length", ...) is padded back to the batch's.
        self.per_token = [
            len(o.shape) >= 2 and not isinstance(o.shape[1], int) for o in session.get_outputs()
        ]
        self.workers = workers
        self._pool = (
            ThreadPoolExecutor(workers, thread_name_prefix="onnx-rows") if workers > 1 else None
        )

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 token_type_ids: torch.Tensor | None = None) -> Any:  # fmt: skip
        feed = self._feed(input_ids, attention_mask, token_type_ids)
        width = feed["input_ids"].shape[1]
        parts = self._shares(feed["attention_mask"])
        values = self._each(parts, lambda rows: self._run(_rows_of(feed, rows)))
        outputs = []
        for n, name in enumerate(self.outputs):
            pieces = [_widen(v[n], width) if self.per_token[n] else v[n] for v in values]
            joined = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
            outputs.append((name, _in_order(joined, parts)))
        return SimpleNamespace(**{name: torch.from_numpy(v) for name, v in outputs})

    def mask_logits(self, batch: dict[str, torch.Tensor], rows: list[int], cols: list[int]) -> Any:
        """Vocabulary logits at (row, col) positions, as ``fill_mask`` asks the torch model."""
        feed = self._feed(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
        parts = self._shares(feed["attention_mask"])

        def run(part: np.ndarray) -> np.ndarray:
            share = _rows_of(feed, part)
            local = {int(r): n for n, r in enumerate(part)}
            width = share["input_ids"].shape[1]
            picked = [local[r] * width + c for r, c in zip(rows, cols, strict=True) if r in local]
            share["positions"] = np.asarray(picked, np.int64)
            [logits] = self._run(share)
            return np.asarray(logits)

        values = self._each(parts, run)
        if len(parts) == 1:
            return torch.from_numpy(values[0])
        # Each share's logits come in the order of the (row, col) pairs whose row it holds.
        pair_rows = np.asarray(rows, np.int64)
        logits = np.empty((len(rows), values[0].shape[-1]), values[0].dtype)
        for part, share in zip(parts, values, strict=True):
            logits[np.isin(pair_rows, part)] = share
        return torch.from_numpy(logits)

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        values: list[np.ndarray] = self.session.run(self.outputs, feed)
        return values

    def _each(self, parts: list[np.ndarray], run: Callable[[np.ndarray], Any]) -> list[Any]:
        """``run`` on every share of the rows, the shares at once on the workers."""
        if self._pool is None or len(parts) == 1:
            return [run(part) for part in parts]
        return list(self._pool.map(run, parts))

    def _shares(self, mask: np.ndarray) -> list[np.ndarray]:
        """Row numbers per worker: sorted by length, cut where each has about as many tokens."""
        lengths = mask.sum(axis=1)
        if self._pool is None or len(lengths) < 2:
            return [np.arange(len(lengths))]
        order = np.argsort(lengths, kind="stable")
        count = min(self.workers, len(lengths))
        cumulative = np.cumsum(lengths[order])
        cuts = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, count) / count)
        cuts = np.clip(cuts, 1, len(lengths) - 1)
        return [part for part in np.split(order, np.unique(cuts)) if len(part)]

    def _feed(
        self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None
    ) -> dict[str, Any]:
        feed = {"input_ids": ids.cpu().numpy(), "attention_mask": mask.cpu().numpy()}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = (
                types.cpu().numpy() if types is not None else np.zeros_like(feed["input_ids"])
            )
        return feed


def _rows_of(feed: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Some rows of a batch, without the trailing padding none of them needs."""
    attended = np.flatnonzero(feed["attention_mask"][rows].any(axis=0))
    width = int(attended[-1]) + 1 if len(attended) else 1
    return {name: np.ascontiguousarray(value[rows, :width]) for name, value in feed.items()}


def _widen(value: np.ndarray, width: int) -> np.ndarray:
    """A per-token output padded back to the batch's width (the tasks never read padding)."""
    missing = width - value.shape[1]
    if missing <= 0:
        return value
    pad = [(0, 0)] * value.ndim
    pad[1] = (0, missing)
    return np.pad(value, pad, constant_values=-1e4)


def _in_order(joined: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """Rows back in the batch's order, from the shares' concatenation."""
    if len(parts) == 1:
        return joined
    order = np.concatenate(parts)
    out = np.empty_like(joined)
    out[order] = joined
    return out


def load(folder: Path, config: Any, model_id: str, plan: RuntimePlan, device: Any) -> OnnxEncoder:
    """An ONNX Runtime session on the converted model, sized to the worker's threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1  # one worker per thread shares the rows (module docstring)
    options.log_severity_level = 3
    path = folder / MODEL_FILE
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    workers = plan.threads or torch.get_num_threads()
    return OnnxEncoder(session, config, path.stat().st_size, workers)
