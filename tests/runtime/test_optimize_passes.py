"""The shared graph passes, each alone: no-op removal, constant folding, BatchNorm folding."""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession, SessionOptions
from xinrt.passes import fold_batchnorm_into_conv, fold_constants, remove_inference_noops


def _ir(model):
    return ir.from_proto(onnx.shape_inference.infer_shapes(model))


def _ort(model, feeds):
    return ort.InferenceSession(model.SerializeToString()).run(None, feeds)


def test_identity_and_inference_dropout_disappear():
    nodes = [
        helper.make_node("Identity", ["x"], ["a"]),
        helper.make_node("Dropout", ["a"], ["b"], ratio=0.5),
        helper.make_node("Relu", ["b"], ["y"]),
    ]
    model = _ir(make_model(nodes, [tensor("x", [4])], [tensor("y", [4])], opset=11))
    remove_inference_noops(model)
    assert [n.op_type for n in model.graph] == ["Relu"]
    assert model.graph.outputs[0].name == "y"


def test_dropout_whose_mask_is_read_stays():
    nodes = [helper.make_node("Dropout", ["x"], ["y", "mask"])]
    model = _ir(
        make_model(
            nodes,
            [tensor("x", [4])],
            [tensor("y", [4]), tensor("mask", [4], TensorProto.BOOL)],
            opset=13,
        )
    )
    remove_inference_noops(model)
    assert [n.op_type for n in model.graph] == ["Dropout"]


def test_shape_arithmetic_folds_to_a_constant_reshape_target():
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "zero1"], ["b1"]),
        helper.make_node("Concat", ["b1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array([0], np.int64), "zero1"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
    ]
    proto = make_model(nodes, [tensor("x", [2, 3, 4])], [tensor("y", [2, 12])], inits)
    model = _ir(proto)
    fold_constants(model)
    assert [n.op_type for n in model.graph] == ["Reshape"]
    np.testing.assert_array_equal(model.graph.initializers["target"].const_value.numpy(), [2, -1])
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    session = InferenceSession(proto, backends=["cpu", "ort", "reference"])
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], _ort(proto, {"x": x})[0])


def test_large_constant_results_are_not_folded():
    nodes = [
        helper.make_node(
            "ConstantOfShape",
            ["shape"],
            ["big"],
            value=numpy_helper.from_array(np.array([1.0], np.float32)),
        ),
        helper.make_node("Add", ["x", "big"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.array([64, 64], np.int64), "shape")]
    model = _ir(make_model(nodes, [tensor("x", [64, 64])], [tensor("y", [64, 64])], inits))
    fold_constants(model)
    assert [n.op_type for n in model.graph] == ["ConstantOfShape", "Add"]


def _conv_bn_model(with_bias: bool, opset: int = 13):
    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "W")]
    conv_inputs = ["x", "W"]
    if with_bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "B"))
        conv_inputs.append("B")
    for name, values in (
        ("s", rng.uniform(0.5, 1.5, 4)),
        ("b", rng.standard_normal(4)),
        ("m", rng.standard_normal(4)),
        ("v", rng.uniform(0.5, 1.5, 4)),
    ):
        inits.append(numpy_helper.from_array(values.astype(np.float32), name))
    nodes = [
        helper.make_node("Conv", conv_inputs, ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], epsilon=1e-3),
    ]
    return make_model(
        nodes, [tensor("x", [1, 3, 8, 8])], [tensor("y", [1, 4, 8, 8])], inits, opset=opset
    )


def test_batchnorm_folds_into_conv_with_and_without_bias():
    x = np.random.default_rng(5).standard_normal((1, 3, 8, 8)).astype(np.float32)
    for with_bias in (True, False):
        proto = _conv_bn_model(with_bias)
        model = _ir(proto)
        fold_batchnorm_into_conv(model)
        assert [n.op_type for n in model.graph] == ["Conv"]
        assert model.graph.outputs[0].name == "y"
        assert not {"s", "b", "m", "v", "W"} & set(model.graph.initializers)
        folded = ir.serde.serialize_model(model)
        np.testing.assert_allclose(
            _ort(folded, {"x": x})[0], _ort(proto, {"x": x})[0], rtol=1e-5, atol=1e-5
        )


def test_optimization_level_zero_keeps_the_graph_as_given():
    proto = _conv_bn_model(True)
    options = SessionOptions(graph_optimization_level=0)
    session = InferenceSession(proto, options, backends=["reference"])
    assert [n.op_type for n in session.placement.nodes] == ["Conv", "BatchNormalization"]
    assert [n.op_type for n in InferenceSession(proto, backends=["reference"]).placement.nodes] == [
        "Conv"
    ]
