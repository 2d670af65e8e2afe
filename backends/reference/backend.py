"""The reference backend: onnx.reference plus spec fixes (fixes.py); claims what they implement."""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
from onnx.reference import ReferenceEvaluator

from xinrt.backend import (
    SUPPORTED,
    Backend,
    CompileOptions,
    Device,
    Support,
    precision_not_applied,
    unsupported,
)
from xinrt.errors import BackendNotFoundError
from xinrt.graph_utils import name_of, opset_of, subgraphs
from xinrt.partition import Partition

from .fixes import IMPLEMENTED_HERE, SPEC_FIXES

_LOADERS = {
    "": "onnx.reference.ops",
    "ai.onnx.ml": "onnx.reference.ops.aionnxml",
    "ai.onnx.preview": "onnx.reference.ops.aionnx_preview",
    "ai.onnx.preview.training": "onnx.reference.ops.aionnx_preview_training",
}


def _implemented(domain: str, op_type: str, opset: int) -> str:
    """ "" when onnx.reference can run the op at this opset, else the reason.

    Ops that onnx defines as functions (HardSwish, Mish ...) have no kernel of their own: the
    evaluator expands their function body, so they count as implemented."""
    domain = "" if domain == "ai.onnx" else domain
    if domain == "" and opset >= IMPLEMENTED_HERE.get(op_type, opset + 1):
        return ""
    if domain not in _LOADERS:
        return f"onnx.reference implements no ops of domain {domain!r}"
    try:
        importlib.import_module(_LOADERS[domain]).load_op(domain, op_type, opset)
    except Exception as exc:  # each loader fails its own way; none may escape capability()
        if _has_function_body(domain, op_type, opset):
            return ""
        return f"onnx.reference has no {op_type} for opset {opset}: {str(exc)[:80]}"
    return ""


def _has_function_body(domain: str, op_type: str, opset: int) -> bool:
    try:
        schema = onnx.defs.get_schema(op_type, opset, domain)
    except Exception:
        return False
    return bool(getattr(schema, "has_function", False)) or bool(
        getattr(schema, "has_context_dependent_function", False)
    )


def _pillow_missing() -> bool:
    return importlib.util.find_spec("PIL") is None


# Attributes onnx.reference's LSTM/GRU/RNN read but ignore (their outputs came out 0.3-0.7 off
# ORT's and the native kernels'), with the sequence_lens input (index 4), which it ignores too.
_RECURRENT_IGNORED = ("clip", "activations", "activation_alpha", "activation_beta")


def _recurrent_deviation(node: ir.Node) -> str:
    if len(node.inputs) > 4 and node.inputs[4] is not None:
        return f"onnx.reference's {node.op_type} ignores sequence_lens"
    for name in _RECURRENT_IGNORED:
        if name in node.attributes:
            return f"onnx.reference's {node.op_type} ignores the {name} attribute"
    forget = node.attributes.get("input_forget")
    if node.op_type == "LSTM" and forget is not None and forget.as_int():
        return "onnx.reference's LSTM ignores input_forget"
    return ""


def _unfixed_deviation(node: ir.Node, opset: int) -> str:
    """Cases where neither onnx.reference nor our SPEC_FIXES match the spec: "" if none."""
    if node.op_type in ("LSTM", "GRU", "RNN") and node.domain in ("", "ai.onnx"):
        reason = _recurrent_deviation(node)
        if reason:
            return reason
    if node.op_type == "Scan" and node.domain in ("", "ai.onnx"):
        # onnx.reference builds a list of num_scan_inputs entries first: 10**12 hangs the session
        scans = node.attributes.get_int("num_scan_inputs", 0)
        if not 1 <= scans <= len(node.inputs):
            return f"Scan: num_scan_inputs {scans} is not in [1, {len(node.inputs)}]"
    if node.op_type == "ImageDecoder" and _pillow_missing():
        return "onnx.reference's ImageDecoder needs Pillow: pip install pillow"
    if node.op_type == "BatchNormalization" and node.domain in ("", "ai.onnx") and opset < 14:
        if len([o for o in node.outputs if o.name]) > 1:
            return f"BatchNormalization-{opset} training-mode outputs are not implemented"
        if node.attributes.get_int("spatial", 1) == 0:
            return f"BatchNormalization-{opset} with spatial=0 is not implemented"
    return ""


def _check_node(node: ir.Node, graph: ir.Graph) -> Support:
    opset = opset_of(node, graph.opset_imports)
    reason = _implemented(node.domain, node.op_type, opset) or _unfixed_deviation(node, opset)
    if reason:
        return unsupported(reason)
    for body in subgraphs(node):
        for inner in body:
            answer = _check_node(inner, graph)
            if not answer.claimed:
                return unsupported(f"subgraph node {inner.op_type}: {answer.reason}")
    return SUPPORTED


def _as_value(result: object) -> object:
    """Tensors as numpy arrays; sequences stay lists and absent optionals stay None."""
    if result is None or isinstance(result, list):
        return result
    return np.asarray(result)


class ReferenceExecutable:
    """A ReferenceEvaluator behind a lock: the evaluator keeps per-run state on its objects."""

    def __init__(self, model: onnx.ModelProto, output_names: list[str]) -> None:
        self._evaluator = ReferenceEvaluator(model, new_ops=SPEC_FIXES)
        self._outputs = output_names
        self._lock = threading.Lock()
        self.report: dict[str, Any] = {}

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, Any]:
        with self._lock:
            results = self._evaluator.run(None, feeds)
        return {name: _as_value(r) for name, r in zip(self._outputs, results)}


class ReferenceBackend(Backend):
    """onnx.reference: slow, complete, and the yardstick the other backends are tested against."""

    last_resort = True  # placement "fastest" never times it where another backend can run

    def __init__(self, target: str | None = None) -> None:
        if target:
            raise BackendNotFoundError(f"backend 'reference' takes no target, got {target!r}")
        self.name = "reference"

    def devices(self) -> list[Device]:
        return [Device("host CPU (numpy)", "cpu", f"onnx {onnx.__version__}")]

    def capability(self, graph: ir.Graph) -> dict[str, Support]:
        return {name_of(node): _check_node(node, graph) for node in graph}

    def compile(self, partition: Partition, options: CompileOptions) -> ReferenceExecutable:
        model = partition.to_model_proto()
        executable = ReferenceExecutable(model, [o.name for o in model.graph.output])
        executable.report = precision_not_applied(self.name, options.precision)
        return executable
