"""nncase:k230 on nncase's simulator, in its worker venv (tiny models only: nncase compiles
take minutes on real CNNs and its simulator seconds per inference).

Skipped with the reason when the venv is missing; XINRT_INSTALL_NPU_ENVS=1 installs it first
(`xinrt backend install nncase`: about 10 s and 260 MB here).
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import xinrt
from tests.backends.npu_env import ensure_installed, skip_unless_installed, worker_backends
from xinrt.backends.nncase.backend import ENV

pytestmark = skip_unless_installed("nncase")


@pytest.fixture(scope="session")
def nncase_env():
    return ensure_installed("nncase", ENV)


@pytest.fixture(autouse=True)
def nncase_backend(nncase_env, tmp_path, monkeypatch):
    yield from worker_backends(nncase_env, tmp_path, monkeypatch, ["nncase:k230"])


def _tiny(det=False):
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    w = onnx.numpy_helper.from_array((rng.standard_normal((8, 3, 3, 3)) * 0.3).astype("f"), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
    ]
    if det:
        nodes.append(helper.make_node("Det", ["r"], ["y"], name="det"))
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    else:
        nodes.append(helper.make_node("Sigmoid", ["r"], ["y"], name="sigmoid"))
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])
    graph = helper.make_graph(nodes, "tiny", [x], [y], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _x():
    return {"x": np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype(np.float32)}


def test_float_kmodel_is_verified_within_1e5():
    session = xinrt.InferenceSession(_tiny(), backends=["nncase:k230", "cpu"])
    (partition,) = session.placement.partitions
    assert partition.backend == "nncase:k230" and partition.details["max_abs_err"] <= 1e-5
    want = xinrt.InferenceSession(_tiny(), backends=["ort"]).run(None, _x())[0]
    np.testing.assert_allclose(session.run(None, _x())[0], want, atol=1e-5)


def test_det_is_declined_and_runs_elsewhere():
    session = xinrt.InferenceSession(_tiny(det=True), backends=["nncase:k230", "cpu", "reference"])
    nodes = {n.name: n for n in session.placement.nodes}
    assert nodes["conv"].backend == "nncase:k230"
    assert "Det is not in nncase" in nodes["det"].declined["nncase:k230"]


def test_second_compile_reuses_the_kmodel():
    xinrt.InferenceSession(_tiny(), backends=["nncase:k230", "cpu"])
    again = xinrt.InferenceSession(_tiny(), backends=["nncase:k230", "cpu"])
    assert again.placement.partitions[0].details["cache"] == "hit"


def test_fp16_is_declined_with_the_reason():
    options = xinrt.SessionOptions(precision={"nncase:k230": "fp16"})
    session = xinrt.InferenceSession(_tiny(), options, backends=["nncase:k230", "cpu"])
    assert "not fp16" in session.placement.nodes[0].declined["nncase:k230"]
