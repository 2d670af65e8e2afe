"""rknn:<platform> on rknn-toolkit2's simulator, in its worker venv.

Skipped with the reason when the venv is missing; with XINRT_INSTALL_NPU_ENVS=1 the session
installs it first (`xinrt backend install rknn`: about 35 s and 1.5 GB here, see
docs/backends/rknn.md). These tests take about 30 s once the venv exists.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import xinrt
from tests.backends.npu_env import ensure_installed, skip_unless_installed, worker_backends
from xinrt import backend as backend_module
from xinrt.backends.rknn.backend import ENV
from xinrt.testing import light_model_path

pytestmark = skip_unless_installed("rknn")


@pytest.fixture(scope="session")
def rknn_env():
    return ensure_installed("rknn", ENV)


@pytest.fixture(autouse=True)
def rknn_backend(rknn_env, tmp_path, monkeypatch):
    yield from worker_backends(rknn_env, tmp_path, monkeypatch, ["rknn:rk3588", "rknn:rv1106"])


def _tiny(opset=13, dropout=False, det=False):
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    w = onnx.numpy_helper.from_array((rng.standard_normal((8, 3, 3, 3)) * 0.3).astype("f"), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
    ]
    last = "r"
    if dropout:
        nodes.append(helper.make_node("Dropout", ["r"], ["d"], name="drop"))
        last = "d"
    if det:
        nodes.append(helper.make_node("Det", [last], ["y"], name="det"))
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    else:
        nodes.append(helper.make_node("Sigmoid", [last], ["y"], name="sigmoid"))
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])
    graph = helper.make_graph(nodes, "tiny", [x], [y], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


def _x():
    return {"x": np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype(np.float32)}


def _ort(model):
    return xinrt.InferenceSession(model, backends=["ort"]).run(None, _x())[0]


def test_simulator_is_the_device():
    (device,) = backend_module.get_backend("rknn:rk3588").devices()
    assert device.kind == "simulator" and "rk3588 (simulator)" == device.name


def test_tiny_fp16_is_verified_and_close_to_ort():
    session = xinrt.InferenceSession(_tiny(), backends=["rknn:rk3588", "cpu"])
    (partition,) = session.placement.partitions
    assert partition.backend == "rknn:rk3588"
    assert partition.details["precision"] == "fp16" and partition.details["max_abs_err"] < 1e-3
    np.testing.assert_allclose(session.run(None, _x())[0], _ort(_tiny()), atol=2e-3)


def test_relu_on_npu_and_det_elsewhere_heterogeneously():
    model = _tiny(det=True)
    session = xinrt.InferenceSession(model, backends=["rknn:rk3588", "cpu", "reference"])
    nodes = {n.name: n for n in session.placement.nodes}
    assert nodes["relu"].backend == "rknn:rk3588" and nodes["conv"].backend == "rknn:rk3588"
    assert nodes["det"].backend in ("cpu", "reference")
    assert "rknn" in str(session.placement) and "reference" in str(session.placement)
    got = session.run(None, _x())[0]
    np.testing.assert_allclose(got, _ort(model), rtol=2e-2, atol=1e-2)


def test_opset9_model_with_dropout_is_legalized():
    model = _tiny(opset=9, dropout=True)
    session = xinrt.InferenceSession(model, backends=["rknn:rk3588", "cpu"])
    assert {n.backend for n in session.placement.nodes} == {"rknn:rk3588"}


def test_int8_meets_the_cosine_bar_and_the_second_compile_hits_the_cache():
    options = xinrt.SessionOptions(precision={"rknn:rk3588": "int8"})
    with pytest.warns(UserWarning, match="seeded random inputs"):
        first = xinrt.InferenceSession(_tiny(), options, backends=["rknn:rk3588", "cpu"])
    details = first.placement.partitions[0].details
    assert details["precision"] == "int8" and details["cosine"] >= 0.99
    with pytest.warns(UserWarning, match="seeded random inputs"):
        second = xinrt.InferenceSession(_tiny(), options, backends=["rknn:rk3588", "cpu"])
    assert second.placement.partitions[0].details["cache"] == "hit"


def test_fp32_and_fp16_on_int8_only_platform_are_declined_with_reasons():
    options = xinrt.SessionOptions(precision={"rknn:rk3588": "fp32"})
    session = xinrt.InferenceSession(_tiny(), options, backends=["rknn:rk3588", "cpu"])
    assert "fp16 only" in session.placement.nodes[0].declined["rknn:rk3588"]
    options = xinrt.SessionOptions(precision={"rknn:rv1106": "fp16"})
    session = xinrt.InferenceSession(_tiny(), options, backends=["rknn:rv1106", "cpu"])
    assert "int8" in session.placement.nodes[0].declined["rknn:rv1106"]


def test_fp16_overflow_is_a_decline_not_nan():
    model = onnx.load(str(light_model_path("squeezenet")))
    session = xinrt.InferenceSession(model, backends=["rknn:rk3588", "cpu"])
    reasons = {n.declined.get("rknn:rk3588", "") for n in session.placement.nodes}
    assert any("beyond fp16's 65504" in r for r in reasons)
