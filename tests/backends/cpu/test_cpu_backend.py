"""The cpu backend's Python side: capability from the C++ registry, compile to one plan."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir
import onnxruntime as ort
from onnx import TensorProto, helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession
from xinrt.backend import get_backend


def test_capability_comes_from_the_native_registry(det_model):
    import onnx

    graph = ir.from_proto(onnx.shape_inference.infer_shapes(det_model)).graph
    answers = get_backend("cpu").capability(graph)
    assert answers["relu"].claimed and answers["square"].claimed and answers["neg"].claimed
    assert not answers["det"].claimed and "Det" in answers["det"].reason


def test_unsupported_dtype_is_declined_with_a_reason():
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu_f64")],
        [tensor("x", [3], TensorProto.DOUBLE)],
        [tensor("y", [3], TensorProto.DOUBLE)],
    )
    answer = get_backend("cpu").capability(ir.from_proto(model).graph)["relu_f64"]
    assert not answer.claimed and "float64" in answer.reason


def test_nodes_with_unsupported_subgraph_nodes_are_declined():
    branch = helper.make_graph(
        [helper.make_node("Det", ["x"], ["o"], name="det")], "b", [], [tensor("o", [])]
    )
    node = helper.make_node("If", ["c"], ["y"], name="if", then_branch=branch, else_branch=branch)
    model = make_model(
        [node], [tensor("c", [], TensorProto.BOOL), tensor("x", [2, 2])], [tensor("y", [])]
    )
    answer = get_backend("cpu").capability(ir.from_proto(model).graph)["if"]
    assert not answer.claimed and "branch node 'det' (Det): no native kernel" in answer.reason


def test_whole_mlp_compiles_to_one_plan_and_matches_onnxruntime(mlp_model):
    session = InferenceSession(mlp_model, backends=["cpu"])
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    x = np.random.default_rng(5).standard_normal((7, 8)).astype(np.float32)
    want = ort.InferenceSession(mlp_model.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-4, atol=1e-6)


def test_device_lists_the_simd_paths():
    (device,) = get_backend("cpu").devices()
    assert device.kind == "cpu" and "baseline" in device.detail


def test_scalars_stay_scalars():
    """0-d inputs and 0-d constants keep shape () through the native plan."""
    from onnx import numpy_helper

    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    nodes = [helper.make_node("Relu", ["s"], ["r"]), helper.make_node("Mul", ["r", "two"], ["y"])]
    model = make_model(nodes, [tensor("s", [])], [tensor("y", [])], [two])
    session = InferenceSession(model, backends=["cpu"])
    (y,) = session.run(None, {"s": np.float32(1.25)})
    assert y.shape == () and float(y) == 2.5
