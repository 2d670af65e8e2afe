"""Types ORT checks at load and the ONNX checker does not: a clear InvalidModelError here too."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession, InvalidModelError


def _refused_by_both(model: onnx.ModelProto, ort_text: str, ours: str) -> None:
    onnx.checker.check_model(model)  # the checker lets it through
    with pytest.raises(Exception, match=ort_text):
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    with pytest.raises(InvalidModelError, match=ours):
        InferenceSession(model)


def test_a_type_parameter_bound_to_two_types_is_refused_as_by_ort():
    ints = numpy_helper.from_array(np.ones((3, 4), np.int64), "i")
    model = make_model(
        [helper.make_node("Add", ["x", "i"], ["y"], name="add")],
        [tensor("x", [3, 4])],
        [tensor("y", [3, 4])],
        [ints],
    )
    _refused_by_both(
        model,
        "bound to different types",
        "node 'add' \\(Add\\): type parameter T is tensor\\(float\\) for 'x' but "
        "tensor\\(int64\\) for 'i'",
    )


def test_a_declared_output_type_the_node_cannot_make_is_refused_as_by_ort():
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [tensor("x", [3, 4])],
        [tensor("y", [3, 4], TensorProto.DOUBLE)],
    )
    _refused_by_both(model, "does not match expected type", "tensor\\(double\\) for 'y'")


def test_a_type_the_schema_does_not_allow_is_refused_as_by_ort():
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [tensor("x", [3, 4], TensorProto.STRING)],
        [tensor("y", [3, 4], TensorProto.STRING)],
    )
    _refused_by_both(model, "tensor\\(string\\)", "tensor\\(string\\) of 'x' is not a type")


def test_heterogeneous_variadics_and_mixed_type_parameters_load():
    """Concat binds one T across its inputs; Shape's T and T1 differ; Cast takes any."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Cast", ["s"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Concat", ["f", "f"], ["y"], axis=0),
    ]
    model = make_model(nodes, [tensor("x", [3, 4])], [tensor("y", [4])])
    x = np.zeros((3, 4), np.float32)
    np.testing.assert_array_equal(InferenceSession(model).run(None, {"x": x})[0], [3, 4, 3, 4])


def test_an_unknown_element_type_is_an_invalid_model_error():
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [tensor("x", [3, 4])],
        [tensor("y", [3, 4], 99)],
    )
    with pytest.raises(InvalidModelError):
        InferenceSession(model)


def _map_model(key: int, value: int) -> onnx.ModelProto:
    map_type = helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))
    graph = helper.make_graph(
        [
            helper.make_node(
                "DictVectorizer", ["x"], ["y"], domain="ai.onnx.ml", int64_vocabulary=[1]
            )
        ],
        "g",
        [onnx.ValueInfoProto(name="x", type=map_type)],
        [helper.make_tensor_value_info("y", value, [1, 1])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    return helper.make_model(graph, opset_imports=opsets)


def test_a_map_type_the_ml_schema_does_not_allow_is_refused_as_by_ort():
    _refused_by_both(
        _map_model(TensorProto.INT64, TensorProto.INT64),
        r"map\(int64,tensor\(int64\)\).*is invalid",
        r"map\(int64, int64\) of 'x' is not a type DictVectorizer-1 takes for T1",
    )
    assert InferenceSession(_map_model(TensorProto.INT64, TensorProto.FLOAT)).get_inputs()[
        0
    ].type == ("map(int64,tensor(float))")
