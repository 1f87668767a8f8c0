"""ONNX Runtime for the encoder tasks: export once, quantise, and answer like the torch model.

The export uses torch's own exporter (``torch.onnx.export(..., dynamo=True)``, the one PyTorch
and ONNX Runtime document; Optimum, which transformers' guide names, requires transformers 4).
Each head exports only what its task reads: classification and tagging logits, QA start and end
logits, and for a masked LM the vocabulary logits at the mask positions only, so a 250k-word
head is never computed for every token. int8 is ONNX Runtime's dynamic quantisation of the
weights, with activations quantised per token at each call (``quantize_rows_on_their_own``),
so a text's scores never depend on its batch; float32 keeps the exported graph. ORT fuses
attention, layer norm and GELU itself when the session opens.
"""

from __future__ import annotations

import logging
import warnings
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

    def __init__(self, session: Any, config: Any, memory_bytes: int) -> None:
        self.session = session
        self.config = config
        self.generation_config = None
        self.memory_bytes = memory_bytes
        self.inputs = {i.name for i in session.get_inputs()}
        self.outputs = [o.name for o in session.get_outputs()]

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 token_type_ids: torch.Tensor | None = None) -> Any:  # fmt: skip
        feed = self._feed(input_ids, attention_mask, token_type_ids)
        values = self.session.run(self.outputs, feed)
        return SimpleNamespace(
            **{name: torch.from_numpy(v) for name, v in zip(self.outputs, values, strict=True)}
        )

    def mask_logits(self, batch: dict[str, torch.Tensor], rows: list[int], cols: list[int]) -> Any:
        """Vocabulary logits at (row, col) positions, as ``fill_mask`` asks the torch model."""
        width = batch["input_ids"].shape[1]
        positions = np.asarray([r * width + c for r, c in zip(rows, cols, strict=True)], np.int64)
        feed = self._feed(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
        feed["positions"] = positions
        [logits] = self.session.run(self.outputs, feed)
        return torch.from_numpy(logits)

    def _feed(
        self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None
    ) -> dict[str, Any]:
        feed = {"input_ids": ids.cpu().numpy(), "attention_mask": mask.cpu().numpy()}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = (
                types.cpu().numpy() if types is not None else np.zeros_like(feed["input_ids"])
            )
        return feed


def load(folder: Path, config: Any, model_id: str, plan: RuntimePlan, device: Any) -> OnnxEncoder:
    """An ONNX Runtime session on the converted model, sized to the worker's threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if plan.threads:
        options.intra_op_num_threads = plan.threads
    # Threads spin between the ~900 small steps of one call (a short batch ran 10-20 % faster
    # than waking them each step) but stop when the call returns: between calls the cores
    # belong to tokenising and to the other models (measured: no CPU used while idle).
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    options.log_severity_level = 3
    path = folder / MODEL_FILE
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return OnnxEncoder(session, config, path.stat().st_size)
