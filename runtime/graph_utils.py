"""Small read-only questions about an onnx_ir graph that several modules ask."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import onnx_ir as ir


def name_of(item: ir.Node | ir.Value) -> str:
    """A node's or value's name ("" when anonymous); loading names every node."""
    return item.name or ""


def subgraphs(node: ir.Node) -> Iterator[ir.Graph]:
    """The graphs held in a node's attributes (If branches, Loop/Scan bodies)."""
    for attr in node.attributes.values():
        if attr.type == ir.AttributeType.GRAPH:
            yield attr.value
        elif attr.type == ir.AttributeType.GRAPHS:
            yield from attr.value


def node_reads(node: ir.Node) -> list[ir.Value]:
    """Every value a node reads: its inputs plus outer-scope values its subgraphs use."""
    values = [v for v in node.inputs if v is not None]
    for graph in subgraphs(node):
        values.extend(outer_references(graph))
    return values


def outer_references(graph: ir.Graph) -> list[ir.Value]:
    """Values a subgraph uses without defining them (captured from an enclosing scope)."""
    defined: set[ir.Value] = set(graph.inputs) | set(graph.initializers.values())
    for node in graph:
        defined.update(node.outputs)
    refs: list[ir.Value] = []
    for node in graph:
        refs.extend(v for v in node_reads(node) if v not in defined and v not in refs)
    # A subgraph may also return an enclosing value as it is (once an Identity is removed).
    refs.extend(v for v in graph.outputs if v not in defined and v not in refs)
    return refs


def opset_of(node: ir.Node, opset_imports: Mapping[str, int]) -> int:
    """The opset version that governs a node's semantics."""
    if node.version is not None:
        return node.version
    domain = "" if node.domain == "ai.onnx" else node.domain
    return opset_imports.get(domain, opset_imports.get("ai.onnx" if domain == "" else domain, 1))


def numpy_dtype_name(value: ir.Value | None) -> str:
    """A value's element type as a numpy dtype name ("" when absent or unknown)."""
    if value is None or value.dtype is None:
        return ""
    try:
        return str(value.dtype.numpy().name)
    except (TypeError, ValueError, NotImplementedError):
        return str(value.dtype.name).lower()


def static_shape(value: ir.Value | None) -> list[int] | None:
    """A value's dims with -1 for symbolic ones, or None when its rank is unknown."""
    if value is None or value.shape is None:
        return None
    return [d if isinstance(d, int) else -1 for d in value.shape]
