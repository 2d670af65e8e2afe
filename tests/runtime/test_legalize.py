"""Each legalization step alone, on small onnx.helper models, then the opset-9 light models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from xinrt.passes.legalize import (
    default_opset,
    evaluate,
    fp16_overflow,
    freeze_shapes,
    initializers_out_of_inputs,
    legalize,
    raise_opset,
    remove_inference_noops,
    seeded_feeds,
    symbolic_inputs,
)
from xinrt.testing import light_model_path, model_input_feeds, randomized_light_model


def _model(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


def _x(shape=(1, 4)):
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))


def _y(shape=(1, 4)):
    return helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))


def test_initializers_leave_graph_inputs():
    w = numpy_helper.from_array(np.ones((1, 4), np.float32), "w")
    winfo = helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 4])
    model = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_x(), winfo], [_y()], [w])
    model.ir_version = 3
    fixed = initializers_out_of_inputs(model)
    assert [v.name for v in fixed.graph.input] == ["x"] and fixed.ir_version >= 4
    assert [v.name for v in model.graph.input] == ["x", "w"], "the input model is not changed"


def test_opset_is_raised_to_13_and_results_stay_the_same():
    model = _model([helper.make_node("Softmax", ["x"], ["y"], axis=1)], [_x()], [_y()], opset=9)
    raised = raise_opset(model, 13)
    assert default_opset(raised) == 13
    feeds = {"x": np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)}
    np.testing.assert_allclose(evaluate(raised, feeds)["y"], evaluate(model, feeds)["y"], 1e-6)
    assert default_opset(raise_opset(_model([], [_x()], [_x()], opset=17), 13)) == 17


def test_dropout_and_identity_are_removed_and_readers_rewired():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Dropout", ["a"], ["b"], name="drop", ratio=0.5),
        helper.make_node("Identity", ["b"], ["c"], name="id"),
        helper.make_node("Neg", ["c"], ["y"], name="neg"),
    ]
    cleaned = remove_inference_noops(_model(nodes, [_x()], [_y()]))
    assert [n.op_type for n in cleaned.graph.node] == ["Relu", "Neg"]
    assert cleaned.graph.node[1].input[0] == "a"


def test_a_noop_writing_a_graph_output_renames_its_producer():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Dropout", ["a"], ["y"], name="drop"),
    ]
    cleaned = remove_inference_noops(_model(nodes, [_x()], [_y()]))
    assert [(n.op_type, list(n.output)) for n in cleaned.graph.node] == [("Relu", ["y"])]
    onnx.checker.check_model(cleaned)


def test_a_noop_copying_a_graph_input_to_an_output_stays_as_identity():
    cleaned = remove_inference_noops(
        _model([helper.make_node("Dropout", ["x"], ["y"])], [_x()], [_y()])
    )
    assert [n.op_type for n in cleaned.graph.node] == ["Identity"]


def test_dropout_whose_mask_is_read_is_kept():
    mask = helper.make_tensor_value_info("m", TensorProto.BOOL, [1, 4])
    node = helper.make_node("Dropout", ["x"], ["y", "m"])
    cleaned = remove_inference_noops(_model([node], [_x()], [_y(), mask]))
    assert [n.op_type for n in cleaned.graph.node] == ["Dropout"]


def test_symbolic_dims_are_frozen_and_shapes_inferred():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [x], [y])
    assert symbolic_inputs(model) == {"x": ["N", 4]}
    frozen = freeze_shapes(model, {"x": (3, 4)})
    assert symbolic_inputs(frozen) == {}
    dims = [d.dim_value for d in frozen.graph.output[0].type.tensor_type.shape.dim]
    assert dims == [3, 4]
    with pytest.raises(ValueError, match="rank"):
        freeze_shapes(model, {"x": (3, 4, 5)})


def test_fp16_overflow_names_the_tensor_that_leaves_the_range():
    big = numpy_helper.from_array(np.full((1, 4), 1e5, np.float32), "big")
    nodes = [
        helper.make_node("Mul", ["x", "big"], ["huge"], name="mul"),
        helper.make_node("Tanh", ["huge"], ["y"], name="tanh"),
    ]
    model = _model(nodes, [_x()], [_y()], [big])
    feeds = {"x": np.full((1, 4), 2.0, np.float32)}
    found = fp16_overflow(model, feeds)
    assert [name for name, _ in found] == ["huge"] and found[0][1] == pytest.approx(2e5)
    assert fp16_overflow(model, {"x": np.full((1, 4), 1e-3, np.float32)}) == []


def test_seeded_feeds_follow_types_and_repeat():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [_x((2, 3))], [_y((2, 3))])
    first, again = seeded_feeds(model, 5), seeded_feeds(model, 5)
    assert first["x"].shape == (2, 3) and first["x"].dtype == np.float32
    np.testing.assert_array_equal(first["x"], again["x"])


def test_opset9_squeezenet_is_legalized_and_computes_the_same():
    original = randomized_light_model("squeezenet")
    assert default_opset(original) == 9
    legal = legalize(original)
    assert default_opset(legal) == 13
    assert not [n for n in legal.graph.node if n.op_type == "Dropout"]
    feeds = model_input_feeds(original, seed=3)
    want = evaluate(original, feeds)
    got = evaluate(legal, feeds)
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6)


def test_shipped_light_model_overflows_fp16():
    model = legalize(onnx.load(str(light_model_path("squeezenet"))))
    found = fp16_overflow(model, seeded_feeds(model))
    assert found and found[0][1] > 65504


def test_a_noop_whose_names_an_if_branch_reads_stays():
    """Renaming `t` or `a` in the main graph only would leave the branch reading a lost name."""
    out = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, 4])
    out2 = helper.make_tensor_value_info("o2", TensorProto.FLOAT, [1, 4])
    then = helper.make_graph([helper.make_node("Neg", ["t"], ["o"])], "then", [], [out])
    other = helper.make_graph([helper.make_node("Abs", ["a"], ["o2"])], "else", [], [out2])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Identity", ["a"], ["t"]),
        helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other),
    ]
    flag = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    model = _model(nodes, [_x(), flag], [_y()])
    cleaned = remove_inference_noops(model)
    onnx.checker.check_model(cleaned)
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    for branch in (True, False):
        feeds = {"x": x, "c": np.array(branch)}
        np.testing.assert_allclose(evaluate(cleaned, feeds)["y"], evaluate(model, feeds)["y"])
