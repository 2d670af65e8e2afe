"""xinrt.onnx_backend: the onnx Backend API, and onnx's own BackendTest driving it on a few ops."""

from __future__ import annotations

import unittest
import warnings

import numpy as np
import onnx
import onnx.backend.test
import pytest
from onnx import TensorProto, helper

from xinrt import InvalidArgumentError, PlacementError
from xinrt import onnx_backend as backend
from xinrt.onnx_backend import XinrtBackendRep, with_backends


def _relu_model() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


X = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)


def test_prepare_builds_a_session_on_the_chosen_backends() -> None:
    rep = backend.prepare(_relu_model(), "CPU", backends=["cpu"], strict=True)
    assert isinstance(rep, XinrtBackendRep)
    assert rep.session.backends == ["cpu"]
    assert rep.session.get_session_options().strict is True
    (y,) = rep.run([X])
    np.testing.assert_array_equal(y, np.maximum(X, 0))
    np.testing.assert_array_equal(rep.run({"x": X}).y, np.maximum(X, 0))  # by name, too
    np.testing.assert_array_equal(rep.run(X)[0], np.maximum(X, 0))


def test_run_model_and_run_node() -> None:
    (y,) = backend.run_model(_relu_model(), [X], backends="cpu")
    np.testing.assert_array_equal(y, np.maximum(X, 0))
    node = helper.make_node("Add", ["a", "b"], ["c"])
    (c,) = backend.run_node(node, [X, X], backends=["cpu", "reference"])
    np.testing.assert_array_equal(c, X + X)


def test_supports_only_the_cpu_device() -> None:
    assert backend.supports_device("CPU")
    assert not backend.supports_device("CUDA")
    assert not backend.supports_device("TPU")
    with pytest.raises(InvalidArgumentError, match="must be 'CPU'"):
        backend.prepare(_relu_model(), "CUDA")


def test_strict_placement_failure_surfaces_as_placement_error() -> None:
    det = helper.make_graph(
        [helper.make_node("Det", ["x"], ["y"])],
        "det",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(det, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(PlacementError, match="strict mode"):
        with_backends(["cpu", "reference"], strict=True).prepare(model)
    assert with_backends("cpu,reference").prepare(model).session.backends == ["cpu", "reference"]


def test_unknown_prepare_option_is_an_argument_error() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown option 'nonsense'"):
        backend.prepare(_relu_model(), nonsense=1)


def test_onnx_backend_test_runs_xinrt_on_a_handful_of_ops() -> None:
    """onnx's BackendTest, unchanged, runs a few ops through cpu (strict) and the default chain."""
    for chain, strict in ((["cpu"], True), (None, False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            suite = onnx.backend.test.BackendTest(with_backends(chain, strict), __name__)
        for pattern in (
            r"^test_relu_cpu$",
            r"^test_add_cpu$",
            r"^test_softmax_axis_1_cpu$",
            r"^test_sigmoid_cpu$",
            r"^test_conv_with_strides_padding_cpu$",
        ):
            suite.include(pattern)
        result = unittest.TestResult()
        suite.test_suite.run(result)
        ran = result.testsRun - len(result.skipped)
        assert ran == 5, [s[1] for s in result.skipped][:3]
        assert not result.failures and not result.errors, (result.failures + result.errors)[:1]
