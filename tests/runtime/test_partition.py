"""partition_graph: maximal, acyclic, deterministic partitions in a valid run order."""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt.partition import partition_graph


def _graph(nodes, inputs, outputs, inits=()):
    model = onnx.shape_inference.infer_shapes(make_model(nodes, inputs, outputs, inits))
    return ir.from_proto(model).graph


def _diamond():
    # x -> a(A) -> b(B) -> d(A); a -> c(A) -> d: c may not join a's partition before b runs? it may.
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="a"),
        helper.make_node("Neg", ["a"], ["b"], name="b"),
        helper.make_node("Abs", ["a"], ["c"], name="c"),
        helper.make_node("Add", ["b", "c"], ["y"], name="d"),
    ]
    return _graph(nodes, [tensor("x", [4])], [tensor("y", [4])])


def _reachable(partitions) -> bool:
    """True when some path leaves a partition and comes back to it (a cycle between them)."""
    owner = {v.name: p.index for p in partitions for n in p.nodes for v in n.outputs}
    edges = {p.index: {owner[v.name] for v in p.inputs if v.name in owner} for p in partitions}
    # a valid run order: every partition reads only from partitions before it
    return all(src < p for p, sources in edges.items() for src in sources)


def test_diamond_groups_same_backend_nodes_and_stays_acyclic():
    graph = _diamond()
    parts = partition_graph(graph, {"a": "A", "b": "B", "c": "A", "d": "A"}, ir_version=8)
    assert [(p.backend, [n.name for n in p.nodes]) for p in parts] == [
        ("A", ["a", "c"]),
        ("B", ["b"]),
        ("A", ["d"]),
    ]
    assert _reachable(parts)


def test_borders_name_crossing_values_and_graph_outputs():
    graph = _diamond()
    parts = partition_graph(graph, {"a": "A", "b": "B", "c": "A", "d": "A"}, ir_version=8)
    first, second, third = parts
    assert [v.name for v in first.inputs] == ["x"]
    assert sorted(v.name for v in first.outputs) == ["a", "c"]
    assert [v.name for v in second.outputs] == ["b"]
    assert sorted(v.name for v in third.inputs) == ["b", "c"]
    assert [v.name for v in third.outputs] == ["y"]


def test_single_backend_gives_one_partition():
    graph = _diamond()
    parts = partition_graph(graph, dict.fromkeys("abcd", "A"), ir_version=8)
    assert len(parts) == 1 and len(parts[0].nodes) == 4


def test_partitioning_is_deterministic():
    assignment = {"a": "A", "b": "B", "c": "A", "d": "B"}
    runs = [
        [
            (p.backend, [n.name for n in p.nodes])
            for p in partition_graph(_diamond(), assignment, ir_version=8)
        ]
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]


def test_initializers_go_with_the_partition_that_reads_them():
    w = numpy_helper.from_array(np.ones(4, np.float32) * 3, "w")
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="a"),
        helper.make_node("Mul", ["a", "w"], ["b"], name="b"),
        helper.make_node("Add", ["b", "w"], ["y"], name="c"),
    ]
    graph = _graph(nodes, [tensor("x", [4])], [tensor("y", [4])], [w])
    parts = partition_graph(graph, {"a": "A", "b": "B", "c": "A"}, ir_version=8)
    assert [[v.name for v in p.initializers] for p in parts] == [[], ["w"], ["w"]]
    assert all("w" not in [v.name for v in p.inputs] for p in parts)


def test_if_node_keeps_its_subgraphs_and_reads_outer_values():
    then_graph = helper.make_graph(
        [helper.make_node("Add", ["a", "a"], ["t"])], "then", [], [tensor("t", [4])]
    )
    else_graph = helper.make_graph(
        [helper.make_node("Neg", ["a"], ["e"])], "else", [], [tensor("e", [4])]
    )
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("ReduceSum", ["a"], ["s"], name="sum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["cond"], name="gt"),
        helper.make_node(
            "If", ["cond"], ["y"], name="if", then_branch=then_graph, else_branch=else_graph
        ),
    ]
    zero = numpy_helper.from_array(np.array(0, np.float32), "zero")
    graph = _graph(nodes, [tensor("x", [4])], [tensor("y", [4])], [zero])
    parts = partition_graph(graph, {"relu": "A", "sum": "A", "gt": "A", "if": "B"}, ir_version=8)
    assert [p.backend for p in parts] == ["A", "B"]
    # the If partition reads `a` only through its branches: it must still be a partition input
    assert sorted(v.name for v in parts[1].inputs) == ["a", "cond"]
    assert "a" in [v.name for v in parts[0].outputs]


def test_partition_model_is_a_valid_standalone_onnx_model():
    import onnx

    graph = _diamond()
    parts = partition_graph(graph, {"a": "A", "b": "B", "c": "A", "d": "A"}, ir_version=8)
    for p in parts:
        onnx.checker.check_model(p.to_model_proto())


def test_int_types_survive_partition_serialisation():
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Neg", ["s"], ["y"], name="neg"),
    ]
    graph = _graph(nodes, [tensor("x", [2, 3])], [tensor("y", [2], TensorProto.INT64)])
    parts = partition_graph(graph, {"shape": "A", "neg": "B"}, ir_version=8)
    model = parts[1].to_model_proto()
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.INT64
