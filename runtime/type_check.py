"""The type checks ORT makes when it loads a model and the ONNX checker does not.

ORT binds each node's type parameters to the types of its inputs and outputs and refuses a
model where one parameter meets two types ("Type parameter (T) of Optype (Add) bound to
different types") or a type its schema does not allow. onnx's checker and (non-strict) shape
inference let both through; xinrt then failed only at run time, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import onnx

from .errors import InvalidModelError

_ONNX_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")


def check_type_bindings(inferred: onnx.ModelProto, label: str) -> None:
    """Refuse (as ORT does) a main-graph node whose type parameters bind inconsistently."""
    graph = inferred.graph
    types = _known_types(graph)
    opsets = {o.domain or "": o.version for o in inferred.opset_import}
    for node in graph.node:
        domain = node.domain or ""
        if domain not in _ONNX_DOMAINS:
            continue
        version = opsets.get(domain, opsets.get("ai.onnx" if domain == "" else domain))
        if version is None:
            continue
        try:
            schema = onnx.defs.get_schema(node.op_type, version, domain)
        except onnx.defs.SchemaError:
            continue  # the checker reports unknown ops
        _check_node(node, schema, types, label)


def _check_node(
    node: onnx.NodeProto, schema: onnx.defs.OpSchema, types: dict[str, str], label: str
) -> None:
    allowed = {c.type_param_str: set(c.allowed_type_strs) for c in schema.type_constraints}
    bound: dict[str, tuple[str, str]] = {}
    for param, name in _actuals(node, schema):
        actual = types.get(name)
        if actual is None or param.type_str not in allowed:
            continue
        if actual not in allowed[param.type_str]:
            raise InvalidModelError(
                f"{label}: node {node.name or node.op_type!r} ({node.op_type}): {actual} of "
                f"{name!r} is not a type {node.op_type}-{schema.since_version} takes for "
                f"{param.type_str} ({', '.join(sorted(allowed[param.type_str]))}); ORT "
                "refuses such a model too"
            )
        first = bound.setdefault(param.type_str, (actual, name))
        if first[0] != actual:
            raise InvalidModelError(
                f"{label}: node {node.name or node.op_type!r} ({node.op_type}): type "
                f"parameter {param.type_str} is {first[0]} for {first[1]!r} but {actual} for "
                f"{name!r}; ORT refuses such a model too"
            )


def _actuals(
    node: onnx.NodeProto, schema: onnx.defs.OpSchema
) -> Iterator[tuple[onnx.defs.OpSchema.FormalParameter, str]]:
    """(formal parameter, value name) pairs of a node's inputs, then outputs."""
    for formals, names in ((schema.inputs, node.input), (schema.outputs, node.output)):
        for index, name in enumerate(names):
            if not name:
                continue
            if index < len(formals):
                formal = formals[index]
            elif formals and _is_variadic(formals[-1]):
                formal = formals[-1]
            else:
                continue  # more actuals than the schema has: the checker reports it
            if _is_variadic(formal) and not formal.is_homogeneous:
                continue
            yield formal, name


def _is_variadic(formal: onnx.defs.OpSchema.FormalParameter) -> bool:
    return formal.option == onnx.defs.OpSchema.FormalParameterOption.Variadic


def _known_types(graph: onnx.GraphProto) -> dict[str, str]:
    types: dict[str, str] = {}
    for tensor in graph.initializer:
        types[tensor.name] = f"tensor({_element_name(tensor.data_type)})"
    for info in (*graph.input, *graph.output, *graph.value_info):
        text = _type_string(info.type)
        if text is not None:
            types[info.name] = text
    return types


def _type_string(type_proto: onnx.TypeProto) -> str | None:
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        elem = type_proto.tensor_type.elem_type
        return f"tensor({_element_name(elem)})" if elem else None
    if kind in ("sequence_type", "optional_type"):
        inner = _type_string(getattr(type_proto, kind).elem_type)
        prefix = "seq" if kind == "sequence_type" else "optional"
        return f"{prefix}({inner})" if inner else None
    if kind == "map_type":  # as ONNX-ML schemas write them: map(string, float)
        value = type_proto.map_type.value_type
        if value.WhichOneof("value") == "tensor_type":
            shown = (
                _element_name(value.tensor_type.elem_type) if value.tensor_type.elem_type else None
            )
        else:
            shown = _type_string(value)
        key = _element_name(type_proto.map_type.key_type)
        return f"map({key}, {shown})" if shown else None
    return None


def _element_name(data_type: int) -> str:
    try:
        return onnx.TensorProto.DataType.Name(data_type).lower()
    except ValueError:  # not an ONNX element type: no schema allows it (ORT refuses it too)
        return f"element type {data_type}"
