"""prepare_for_placement: Constant nodes become initializers, initializers leave the inputs."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt.passes import prepare_for_placement


def test_constants_become_initializers_and_inputs_keep_only_real_inputs():
    w = numpy_helper.from_array(np.ones(3, np.float32), "w")
    nodes = [
        helper.make_node("Constant", [], ["c"], value_floats=[1.0, 2.0, 3.0]),
        helper.make_node("Add", ["x", "c"], ["s"]),
        helper.make_node("Mul", ["s", "w"], ["y"]),
    ]
    model = make_model(nodes, [tensor("x", [3]), tensor("w", [3])], [tensor("y", [3])], [w])
    graph = prepare_for_placement(ir.from_proto(model)).graph
    assert [n.op_type for n in graph] == ["Add", "Mul"]
    assert [v.name for v in graph.inputs] == ["x"]
    assert sorted(graph.initializers) == ["c", "w"]
    np.testing.assert_array_equal(graph.initializers["c"].const_value.numpy(), [1, 2, 3])
