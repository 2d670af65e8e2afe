"""Load what ORT loads (issue 13): the checker's verdicts ORT does not share are not errors,
and what ORT refuses is a clear InvalidModelError. Each case is checked against raw ORT."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession, InvalidInputError, InvalidModelError

F = TensorProto.FLOAT


def _ort(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _same_as_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> InferenceSession:
    session = InferenceSession(model)
    want = _ort(model)
    for got, expected in zip(session.run(None, feeds), want.run(None, feeds)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    for ours, theirs in ((session.get_inputs(), want.get_inputs()),
                         (session.get_outputs(), want.get_outputs())):  # fmt: skip
        assert [(a.name, a.shape, a.type) for a in ours] == [
            (a.name, a.shape, a.type) for a in theirs
        ]
    return session


def _relu(inputs, outputs, nodes=None, **kwargs) -> onnx.ModelProto:
    nodes = nodes or [helper.make_node("Relu", ["x"], ["y"])]
    return make_model(nodes, inputs, outputs, **kwargs)


def _checker_refuses(model: onnx.ModelProto, text: str) -> None:
    with pytest.raises(onnx.checker.ValidationError, match=text):
        onnx.checker.check_model(model)


def test_inputs_and_outputs_without_shape_load_as_in_ort():
    model = _relu([helper.make_tensor_value_info("x", F, None)],
                  [helper.make_tensor_value_info("y", F, None)])  # fmt: skip
    _checker_refuses(model, "Field 'shape' of 'type' is required but missing")
    session = _same_as_ort(model, {"x": _x(3, 4)})
    assert session.get_inputs()[0].shape == []  # ORT's answer for an unknown rank


def test_output_without_type_loads_as_in_ort():
    model = _relu([tensor("x", [3, 4])], [helper.make_empty_tensor_value_info("y")])
    _checker_refuses(model, "required but missing")
    _same_as_ort(model, {"x": _x(3, 4)})


def test_minus_one_dims_are_dynamic_as_in_ort():
    model = _relu([tensor("x", [-1, 4])], [tensor("y", [-1, 4])])
    session = _same_as_ort(model, {"x": _x(3, 4)})
    assert session.get_inputs()[0].shape == [None, 4] == _ort(model).get_inputs()[0].shape
    assert session.run(None, {"x": _x(5, 4)})[0].shape == (5, 4)


def test_zero_dims_stay_fixed_as_in_ort():
    """ORT 1.32 takes a declared 0 literally (shows 0, refuses a feed of 3): so do we."""
    model = _relu([tensor("x", [0, 4])], [tensor("y", [0, 4])])
    assert _ort(model).get_inputs()[0].shape == [0, 4]
    session = _same_as_ort(model, {"x": _x(0, 4)})
    with pytest.raises(ort.capi.onnxruntime_pybind11_state.InvalidArgument):
        _ort(model).run(None, {"x": _x(3, 4)})
    with pytest.raises(InvalidInputError, match="dimension 0 must be 0"):
        session.run(None, {"x": _x(3, 4)})


def test_unsorted_main_graph_loads_as_in_ort():
    nodes = [helper.make_node("Relu", ["t"], ["y"]), helper.make_node("Neg", ["x"], ["t"])]
    model = _relu([tensor("x", [3, 4])], [tensor("y", [3, 4])], nodes)
    _checker_refuses(model, "topologically sorted")
    _same_as_ort(model, {"x": _x(3, 4)})


def test_cycle_is_refused_clearly():
    nodes = [helper.make_node("Relu", ["t"], ["y"]), helper.make_node("Neg", ["y"], ["t"])]
    model = _relu([tensor("x", [3, 4])], [tensor("y", [3, 4])], nodes)
    with pytest.raises(Exception, match="not acyclic"):
        _ort(model)
    with pytest.raises(InvalidModelError, match="not acyclic"):
        InferenceSession(model)


def test_graph_without_a_name_loads_as_in_ort():
    model = _relu([tensor("x", [3, 4])], [tensor("y", [3, 4])], name="")
    _checker_refuses(model, "'name' of 'graph'")
    _same_as_ort(model, {"x": _x(3, 4)})


def test_ir3_initializer_missing_from_the_inputs_loads_as_in_ort():
    w = numpy_helper.from_array(_x(3, 4, seed=2), "w")
    model = make_model([helper.make_node("Add", ["x", "w"], ["y"])],
                       [tensor("x", [3, 4])], [tensor("y", [3, 4])], [w], opset=8)  # fmt: skip
    model.ir_version = 3
    _checker_refuses(model, "in initializer but not in graph input")
    _same_as_ort(model, {"x": _x(3, 4)})


def test_unused_inputs_and_initializers_load_as_in_ort():
    unused = numpy_helper.from_array(np.ones(2, np.float32), "z")
    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [tensor("x", [3, 4]), tensor("u", [2])], [tensor("y", [3, 4])],
                       [unused])  # fmt: skip
    session = _same_as_ort(model, {"x": _x(3, 4), "u": np.ones(2, np.float32)})
    with pytest.raises(Exception, match="missing"):
        session.run(None, {"x": _x(3, 4)})  # ORT too: "Required inputs (['u']) are missing"


@pytest.mark.parametrize("imported", [True, False])
def test_contrib_ops_load_and_go_to_a_backend_that_claims_them(imported):
    node = helper.make_node("FastGelu", ["x"], ["y"], domain="com.microsoft")
    model = _relu([tensor("x", [3, 4])], [tensor("y", [3, 4])], [node])
    if imported:
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    else:
        _checker_refuses(model, "No opset import for domain 'com.microsoft'")
    session = _same_as_ort(model, {"x": _x(3, 4)})
    assert session.placement.to_dict()["partitions"][0]["backend"] == "ort"


def test_input_without_type_is_refused_as_by_ort():
    model = _relu([helper.make_empty_tensor_value_info("x")], [tensor("y", [3, 4])])
    with pytest.raises(Exception, match="does not have type"):
        _ort(model)
    with pytest.raises(InvalidModelError, match="input 'x' has no type"):
        InferenceSession(model)


def test_input_of_undefined_element_type_is_refused_as_by_ort():
    model = _relu([tensor("x", [3, 4], TensorProto.UNDEFINED)], [tensor("y", [3, 4])])
    onnx.checker.check_model(model)  # the checker lets it through; ORT does not
    with pytest.raises(Exception, match="Invalid tensor data type 0"):
        _ort(model)
    with pytest.raises(InvalidModelError, match="undefined element type"):
        InferenceSession(model)


def test_unsorted_subgraph_is_refused_as_by_ort():
    then = helper.make_graph(
        [helper.make_node("Relu", ["t"], ["o"]), helper.make_node("Neg", ["x"], ["t"])],
        "then", [], [tensor("o", [3, 4])],
    )  # fmt: skip
    other = helper.make_graph(
        [helper.make_node("Abs", ["x"], ["o2"])], "else", [], [tensor("o2", [3, 4])]
    )
    node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)
    model = _relu([tensor("x", [3, 4]), tensor("c", [], TensorProto.BOOL)],
                  [tensor("y", [3, 4])], [node])  # fmt: skip
    with pytest.raises(Exception, match="topologically sorted"):
        _ort(model)
    with pytest.raises(InvalidModelError, match="topologically sorted, however input 't'"):
        InferenceSession(model)
