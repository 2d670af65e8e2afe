"""Cutting a cpu partition at its host ops: stages, and the values each hands on."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper

from xinrt import InferenceSession
from xinrt.backends.cpu.staged import split_stages
from xinrt.graph_utils import name_of
from xinrt.model import load_model


def _model() -> onnx.ModelProto:
    """Relu -> ZipMap (host) and Relu -> Add -> Neg: two native runs around the host op."""
    seq_map = helper.make_sequence_type_proto(
        helper.make_map_type_proto(T.INT64, helper.make_tensor_type_proto(T.FLOAT, None))
    )
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["x"], ["r"], name="relu"),
            helper.make_node(
                "ZipMap", ["r"], ["z"], name="zip", domain="ai.onnx.ml", classlabels_int64s=[0, 1]
            ),
            helper.make_node("Add", ["r", "w"], ["s"], name="add"),
            helper.make_node("Neg", ["s"], ["n"], name="neg"),
        ],
        "g",
        [helper.make_tensor_value_info("x", T.FLOAT, [None, 2])],
        [
            onnx.ValueInfoProto(name="z", type=seq_map),
            helper.make_tensor_value_info("n", T.FLOAT, None),
        ],
        initializer=[helper.make_tensor("w", T.FLOAT, [2], [1.0, 2.0])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    return helper.make_model(graph, opset_imports=opsets)


def test_native_host_native_stages_hand_on_only_what_is_read_later() -> None:
    model = load_model(_model()).ir_model
    nodes = list(model.graph)
    stages = split_stages(nodes, list(model.graph.outputs), list(model.graph.initializers.values()))
    shown = [
        (s.host, [name_of(n) for n in s.nodes], [name_of(v) for v in s.inputs],
         [name_of(v) for v in s.outputs])
        for s in stages
    ]  # fmt: skip
    assert shown == [
        (False, ["relu"], ["x"], ["r"]),
        (True, ["zip"], ["r"], ["z"]),
        (False, ["add", "neg"], ["r"], ["n"]),  # the constant w stays out of the inputs
    ]


def test_a_staged_partition_runs_as_one_cpu_partition() -> None:
    session = InferenceSession(_model(), backends=["cpu"])
    assert len(session.placement.partitions) == 1
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    zipped, negated = session.run(None, {"x": x})
    relu = np.maximum(x, 0)
    assert zipped == [{0: float(a), 1: float(b)} for a, b in relu]
    np.testing.assert_allclose(negated, -(relu + np.array([1.0, 2.0], np.float32)), rtol=1e-6)
