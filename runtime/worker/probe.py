"""One-node trial models for SDK capability probes (built by xinrt.one_node).

Unlike ORT's probes, weights stay constants (NPU compilers fold or reject non-constant weights):
small constants keep their values (shapes, axes), large float ones are replaced by seeded
random values of the same shape, so nodes that differ only in weights share one probe.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
from onnx import numpy_helper

from xinrt.graph_utils import name_of, node_reads
from xinrt.one_node import SMALL_CONSTANT, one_node_model

_IR_VERSION = 8


def _static_dims(value: ir.Value) -> list[int] | None:
    if value.shape is None:
        return None
    dims = [d for d in value.shape if isinstance(d, int)]
    return dims if len(dims) == len(value.shape) else None


def probe_model(node: ir.Node, graph: ir.Graph) -> tuple[onnx.ModelProto, str] | str:
    """(the one-node model, its signature), or why this node cannot be probed before compile."""
    for value in node_reads(node):
        if value.const_value is None and (value.type is None or _static_dims(value) is None):
            return f"shape of input {name_of(value)!r} is not static before compile"
    rng = np.random.default_rng(0)

    def constant(value: ir.Value, name: str) -> onnx.TensorProto:
        assert value.const_value is not None
        array = value.const_value.numpy()
        if array.size > SMALL_CONSTANT and array.dtype.kind == "f":
            array = rng.standard_normal(array.shape).astype(array.dtype) * 0.1
        return numpy_helper.from_array(np.asarray(array), name)

    built = one_node_model(node, graph, ir_version=_IR_VERSION, constant=constant)
    if isinstance(built, str):
        return built
    if not built.model.graph.input:
        return "node reads only constants (folded before it reaches an NPU)"
    return built.model, built.key
