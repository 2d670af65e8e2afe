"""Truthful per-node capability for ORT: build a one-node model per distinct signature, let ORT
try to create a session for it on the execution provider alone, and cache the answer on disk."""

from __future__ import annotations

import hashlib
import math
import re

import onnx
import onnx_ir as ir

from xinrt.graph_utils import name_of, node_reads
from xinrt.ml_types import map_type_of, serialize_value

_SMALL_CONSTANT = 4096  # constants up to this many elements are embedded (shape-like inputs)


def probe_model(node: ir.Node, graph: ir.Graph, ir_version: int) -> onnx.ModelProto | str:
    """The one-node model for a node, or a reason it cannot be probed."""
    inputs: list[onnx.ValueInfoProto] = []
    initializers: list[onnx.TensorProto] = []
    seen: set[str] = set()
    for value in node_reads(node):
        if name_of(value) in seen:
            continue
        seen.add(name_of(value))
        const = value.const_value
        if const is not None and math.prod(const.shape.numpy()) <= _SMALL_CONSTANT:
            tensor = ir.serde.serialize_tensor(const)
            tensor.name = name_of(value)
            initializers.append(tensor)
        elif value.type is None and map_type_of(value) is None:
            return (
                f"type of input {name_of(value)!r} is unknown (shape inference could not type it)"
            )
        else:
            inputs.append(serialize_value(value))
    outputs = [
        serialize_value(v)
        if v.type is not None or map_type_of(v) is not None
        else onnx.helper.make_empty_tensor_value_info(name_of(v))
        for v in node.outputs
        if name_of(v)
    ]
    graph_proto = onnx.helper.make_graph(
        [ir.serde.serialize_node(node)], "probe", inputs, outputs, initializer=initializers
    )
    model = onnx.helper.make_model(
        graph_proto,
        opset_imports=[onnx.helper.make_opsetid(d, v) for d, v in graph.opset_imports.items()],
    )
    model.ir_version = max(ir_version, 3)
    return model


def probe_key(model: onnx.ModelProto) -> str:
    """Signature of a probe: the node with its names stripped, its input types and constants."""
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    stripped.graph.node[0].name = ""
    return hashlib.sha256(stripped.SerializeToString(deterministic=True)).hexdigest()[:32]


def short_reason(message: str) -> str:
    """ORT's error, without its '[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED :' prefix, one line."""
    line = message.strip().splitlines()[0] if message.strip() else "session creation failed"
    line = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*", "", line)
    return line[:240]
