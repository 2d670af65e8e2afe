"""Load what ONNX Runtime loads: the ONNX checker's verdicts that ORT does not share.

ORT (checked against 1.32) runs models whose main graph is not topologically sorted, whose
inputs and outputs carry no shape, whose outputs carry no type, whose graph has no name, whose
initializers are missing from graph.input in an IR 3 model, whose com.microsoft (or other
custom-domain) nodes have no opset import, and whose dims are declared -1 (paddle2onnx: "any
size"). ORT refuses an input without a type and a cycle, as we do. `accept_as_ort_does`
rewrites the model into the form the rest of xinrt expects; `checkable_copy` hides from the
checker only what ORT does not check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import onnx

from .errors import InvalidModelError

_ONNX_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training")


def accept_as_ort_does(proto: onnx.ModelProto, label: str) -> None:
    """Normalise in place what ORT accepts: node order, -1 dims, implied opset imports; and
    refuse, with a clear error, the inputs ORT refuses (no type, undefined element type)."""
    graph = proto.graph
    for value in graph.input:
        _require_input_type(value, label)
    _sort_nodes(graph, label)
    for info in _value_infos(proto):
        _negative_dims_to_unknown(info.type)
    _import_custom_domains(proto)


def checkable_copy(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The model, or a copy of it with what ORT does not check made checker-proof."""
    graph = proto.graph
    untyped = [v for v in (*graph.input, *graph.output) if _lacks_shape_or_type(v)]
    ir3_loose = proto.ir_version < 4 and _initializers_not_in_inputs(graph)
    if not untyped and graph.name and not ir3_loose:
        return proto
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    cgraph = copy.graph
    for value in (*cgraph.input, *cgraph.output):
        if _lacks_shape_or_type(value):
            _fill_for_checker(value)
    cgraph.name = cgraph.name or "main"
    if ir3_loose:
        copy.ir_version = 4  # IR 3's rule "every initializer is an input" is the checker's only
    return copy


def _require_input_type(value: onnx.ValueInfoProto, label: str) -> None:
    if value.type.WhichOneof("value") is None:  # no type, or an empty one
        raise InvalidModelError(
            f"{label}: model input {value.name!r} has no type; ORT refuses such a model too. "
            "Re-export it with typed inputs"
        )
    if value.type.WhichOneof("value") == "tensor_type" and not value.type.tensor_type.elem_type:
        raise InvalidModelError(
            f"{label}: model input {value.name!r} has an undefined element type (0); "
            "ORT refuses such a model too. Re-export it with a tensor element type"
        )


def _lacks_shape_or_type(value: onnx.ValueInfoProto) -> bool:
    kind = value.type.WhichOneof("value")
    if kind is None:
        return True
    tensor = value.type.tensor_type if kind == "tensor_type" else None
    return tensor is not None and (not tensor.elem_type or not tensor.HasField("shape"))


def _fill_for_checker(value: onnx.ValueInfoProto) -> None:
    # Only the checker sees this copy: it demands a shape (any) and an element type (any).
    tensor = value.type.tensor_type
    if not tensor.elem_type:
        tensor.elem_type = onnx.TensorProto.FLOAT
    if not tensor.HasField("shape"):
        tensor.shape.SetInParent()


def _initializers_not_in_inputs(graph: onnx.GraphProto) -> bool:
    inputs = {v.name for v in graph.input}
    return any(t.name not in inputs for t in graph.initializer)


def _sort_nodes(graph: onnx.GraphProto, label: str) -> None:
    """Order the main graph's nodes so each comes after what it reads (ORT sorts them too).

    Names no node of this graph produces are taken as available (inputs, initializers, or a
    dangling name the checker reports). Subgraphs are left alone: ORT refuses them unsorted.
    """
    producer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in node.output:
            if name:
                producer.setdefault(name, index)
    needs = [sorted({producer[n] for n in _reads(node) if n in producer}) for node in graph.node]
    if all(all(p < i for p in deps) for i, deps in enumerate(needs)):
        return
    readers: dict[int, list[int]] = {}
    waiting = [len(deps) for deps in needs]
    for index, deps in enumerate(needs):
        for dep in deps:
            readers.setdefault(dep, []).append(index)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    order: list[int] = []
    while ready:
        ready.sort(reverse=True)  # stable: among ready nodes, the earliest in the file first
        index = ready.pop()
        order.append(index)
        for reader in readers.get(index, []):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) != len(graph.node):
        stuck = next(graph.node[i] for i, count in enumerate(waiting) if count)
        raise InvalidModelError(
            f"{label}: the graph is not acyclic (node {stuck.name or stuck.op_type!r} depends "
            "on its own output); ORT refuses such a model too"
        )
    nodes = [graph.node[i] for i in order]
    del graph.node[:]
    graph.node.extend(nodes)


def _reads(node: onnx.NodeProto) -> Iterator[str]:
    """Every name a node reads, its subgraphs' outer-scope references included."""
    yield from node.input
    for attribute in node.attribute:
        for sub in _attribute_graphs(attribute):
            produced = {o for n in sub.node for o in n.output}
            local = produced | {v.name for v in sub.input} | {t.name for t in sub.initializer}
            for inner in sub.node:
                yield from (n for n in _reads(inner) if n not in local)
            yield from (v.name for v in sub.output if v.name not in local)


def _attribute_graphs(attribute: onnx.AttributeProto) -> Iterable[onnx.GraphProto]:
    if attribute.type == onnx.AttributeProto.GRAPH:
        return [attribute.g]
    if attribute.type == onnx.AttributeProto.GRAPHS:
        return list(attribute.graphs)
    return []


def proto_graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """A graph and every subgraph in it, depth first."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            for sub in _attribute_graphs(attribute):
                yield from proto_graphs(sub)


def _value_infos(proto: onnx.ModelProto) -> Iterator[onnx.ValueInfoProto]:
    for graph in proto_graphs(proto.graph):
        yield from graph.input
        yield from graph.output
        yield from graph.value_info


def _negative_dims_to_unknown(type_proto: onnx.TypeProto) -> None:
    """-1 (paddle2onnx, old exporters) means "any size" to ORT: an unknown dim here."""
    kind = type_proto.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        tensor = getattr(type_proto, kind)
        if tensor.HasField("shape"):
            for dim in tensor.shape.dim:
                if dim.HasField("dim_value") and dim.dim_value < 0:
                    dim.ClearField("dim_value")
    elif kind == "sequence_type":
        _negative_dims_to_unknown(type_proto.sequence_type.elem_type)
    elif kind == "optional_type":
        _negative_dims_to_unknown(type_proto.optional_type.elem_type)
    elif kind == "map_type":
        _negative_dims_to_unknown(type_proto.map_type.value_type)


def _import_custom_domains(proto: onnx.ModelProto) -> None:
    """ORT runs a com.microsoft node even when the model forgot to import its domain."""
    imported = {o.domain for o in proto.opset_import}
    used = {n.domain for g in proto_graphs(proto.graph) for n in g.node}
    for domain in sorted(used - imported - set(_ONNX_DOMAINS)):
        proto.opset_import.add(domain=domain, version=1)
