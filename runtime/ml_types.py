"""ONNX-ML's map types (`map(int64,tensor(float))`, ZipMap's `seq(map(...))`) beside onnx_ir.

onnx_ir (1.1) has no map type: `ir.from_proto` raises NotImplementedError on any value info
whose type holds a map, and `ir.serde.serialize_value` cannot write one back (see
docs/onnxruntime-compat.md, "What onnx_ir lacks"). So the loader hides those types from onnx_ir
(the values load untyped), restores them on the ModelProto, and records the exact TypeProto on
each IR value (`value.meta`). Whatever writes a value back to ONNX for a backend (ORT models,
partition models) goes through `serialize_value` here, which puts the map type back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import onnx
import onnx_ir as ir

from .graph_utils import name_of
from .lenient_load import proto_graphs

ONNX_TYPE = "xinrt.onnx_type"  # value.meta key: the TypeProto onnx_ir cannot hold


def holds_map(type_proto: onnx.TypeProto) -> bool:
    """Whether a type is a map or has one inside (seq(map(...)), optional(seq(map)) ...)."""
    kind = type_proto.WhichOneof("value")
    if kind == "map_type":
        return True
    if kind in ("sequence_type", "optional_type"):
        return holds_map(getattr(type_proto, kind).elem_type)
    return False


def _value_infos(graph: onnx.GraphProto) -> Iterator[onnx.ValueInfoProto]:
    yield from graph.input
    yield from graph.output
    yield from graph.value_info


def hide_map_types(proto: onnx.ModelProto) -> list[tuple[onnx.ValueInfoProto, onnx.TypeProto]]:
    """Clear, in place, every value info type that holds a map (all graphs); returns what
    `restore_map_types` puts back."""
    hidden: list[tuple[onnx.ValueInfoProto, onnx.TypeProto]] = []
    for graph in proto_graphs(proto.graph):
        for info in _value_infos(graph):
            if holds_map(info.type):
                kept = onnx.TypeProto()
                kept.CopyFrom(info.type)
                hidden.append((info, kept))
                info.ClearField("type")
    return hidden


def restore_map_types(hidden: list[tuple[onnx.ValueInfoProto, onnx.TypeProto]]) -> None:
    """Undo `hide_map_types`: the ModelProto holds its declared types again."""
    for info, type_proto in hidden:
        info.type.CopyFrom(type_proto)


def record_map_types(
    model: ir.Model, hidden: list[tuple[onnx.ValueInfoProto, onnx.TypeProto]]
) -> None:
    """Put each hidden type on the IR value of that name (every graph), in `value.meta`."""
    types = {info.name: type_proto for info, type_proto in hidden}
    if not types:
        return
    for graph in (model.graph, *model.graph.subgraphs()):
        values = [*graph.inputs, *graph.outputs, *(v for n in graph for v in n.outputs)]
        for value in values:
            type_proto = types.get(value.name or "")
            if type_proto is not None:
                value.meta[ONNX_TYPE] = type_proto


def map_type_of(value: ir.Value | None) -> onnx.TypeProto | None:
    """The map-holding type of a value, or None for every type onnx_ir holds itself."""
    if value is None:
        return None
    found = value.meta.get(ONNX_TYPE)
    return found if isinstance(found, onnx.TypeProto) else None


def serialize_value(value: ir.Value) -> onnx.ValueInfoProto:
    """`ir.serde.serialize_value` that also writes a map-holding type back."""
    info = ir.serde.serialize_value(value)
    type_proto = map_type_of(value)
    if type_proto is not None:
        info.type.CopyFrom(type_proto)
    return info


def save_model(model: ir.Model, path: str | os.PathLike[str]) -> None:
    """`ir.save` that keeps the map-holding types of the main graph's inputs and outputs."""
    types = {
        name_of(v): t
        for v in (*model.graph.inputs, *model.graph.outputs)
        if (t := map_type_of(v)) is not None
    }
    if not types:
        ir.save(model, path)
        return
    proto = ir.to_proto(model)
    for info in (*proto.graph.input, *proto.graph.output):
        if info.name in types:
            info.type.CopyFrom(types[info.name])
    onnx.save(proto, os.fspath(path))


def element_name(data_type: int) -> str:
    """`float`, `int64`, `string` ... as ORT prints element types."""
    try:
        return onnx.TensorProto.DataType.Name(data_type).lower()
    except ValueError:
        return f"element type {data_type}"


def proto_type_string(type_proto: onnx.TypeProto) -> str:
    """ORT's type string of any TypeProto: `map(string,tensor(float))`,
    `seq(map(int64,tensor(float)))`, `tensor(float)`; "unknown" when empty."""
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return f"tensor({element_name(type_proto.tensor_type.elem_type)})"
    if kind == "sparse_tensor_type":
        return f"sparse_tensor({element_name(type_proto.sparse_tensor_type.elem_type)})"
    if kind == "map_type":
        key = element_name(type_proto.map_type.key_type)
        return f"map({key},{proto_type_string(type_proto.map_type.value_type)})"
    if kind in ("sequence_type", "optional_type"):
        prefix = "seq" if kind == "sequence_type" else "optional"
        return f"{prefix}({proto_type_string(getattr(type_proto, kind).elem_type)})"
    return "unknown"
