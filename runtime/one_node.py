"""One-node models: a node alone in a model, for capability probes (ORT's and every SDK
worker's), and the name-free signature its probe answer is cached under.

Each distinct value the node reads becomes either an initializer (what the backend's `constant`
policy returns for a constant) or a typed graph input; its named outputs become the outputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import onnx
import onnx_ir as ir
from onnx import helper

from .graph_utils import name_of, node_reads
from .ml_types import map_type_of, serialize_value

SMALL_CONSTANT = 4096  # elements: a constant this small is shape-like (shapes, axes, indices)

# What to embed for a constant the node reads (its initializer, named as given), or None to
# make it a typed graph input instead.
ConstantPolicy = Callable[[ir.Value, str], "onnx.TensorProto | None"]


@dataclass(frozen=True)
class OneNodeModel:
    """The probe model and its signature: equal signatures, equal probe answers."""

    model: onnx.ModelProto
    key: str


def one_node_model(
    node: ir.Node, graph: ir.Graph, *, ir_version: int, constant: ConstantPolicy
) -> OneNodeModel | str:
    """The node alone in a model, or why it cannot be built (an input of unknown type)."""
    inputs: list[onnx.ValueInfoProto] = []
    initializers: list[onnx.TensorProto] = []
    seen: set[str] = set()
    for value in node_reads(node):
        name = name_of(value) or ""
        if name in seen:
            continue
        seen.add(name)
        tensor = constant(value, name) if value.const_value is not None else None
        if tensor is not None:
            initializers.append(tensor)
        elif value.type is None and map_type_of(value) is None:
            return f"type of input {name!r} is unknown (shape inference could not type it)"
        else:
            inputs.append(serialize_value(value))  # map-typed values keep their type (ml_types)
    outputs = [
        serialize_value(v)
        if v.type is not None or map_type_of(v) is not None
        else helper.make_empty_tensor_value_info(name_of(v))
        for v in node.outputs
        if name_of(v)
    ]
    opsets = sorted(graph.opset_imports.items())
    model = helper.make_model(
        helper.make_graph(
            [ir.serde.serialize_node(node)], "probe", inputs, outputs, initializer=initializers
        ),
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
    )
    model.ir_version = ir_version
    return OneNodeModel(model, signature(model))


def signature(model: onnx.ModelProto) -> str:
    """A digest of a one-node model without its names: the node's name and the value names
    (renamed in order of appearance) do not change what a compiler makes of it."""
    canonical = onnx.ModelProto()
    canonical.CopyFrom(model)
    graph = canonical.graph
    names: dict[str, str] = {"": ""}

    def renamed(name: str) -> str:
        return names.setdefault(name, f"v{len(names)}")

    node = graph.node[0]
    node.name = ""
    node.input[:] = [renamed(n) for n in node.input]
    node.output[:] = [renamed(n) for n in node.output]
    for info in (*graph.input, *graph.initializer, *graph.output):
        info.name = renamed(info.name)
    return hashlib.sha256(canonical.SerializeToString(deterministic=True)).hexdigest()[:32]
