"""Shared fixtures: small models built with onnx.helper, and a private cache folder."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "xinrt-cache"))


@pytest.fixture
def mlp_model() -> onnx.ModelProto:
    """x[N,8] -> MatMul(W1) -> Add(b1) -> Relu -> MatMul(W2) -> Softmax: nodes cpu can run."""
    rng = np.random.default_rng(7)
    w1 = numpy_helper.from_array(rng.standard_normal((8, 16)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b1")
    w2 = numpy_helper.from_array(rng.standard_normal((16, 4)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="mm1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="add1"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu1"),
        helper.make_node("MatMul", ["h2", "w2"], ["logits"], name="mm2"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1),
    ]
    return make_model(
        nodes,
        [tensor("x", ["N", 8])],
        [tensor("y", ["N", 4])],
        [w1, b1, w2],
        producer_name="xinrt-tests",
        doc_string="a small MLP",
        model_version=3,
    )


@pytest.fixture
def det_model() -> onnx.ModelProto:
    """x[3,3] -> Relu -> Det -> Neg: Det is an op the native cpu backend lacks."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Mul", ["r", "r"], ["sq"], name="square"),
        helper.make_node("Det", ["sq"], ["d"], name="det"),
        helper.make_node("Neg", ["d"], ["y"], name="neg"),
    ]
    return make_model(nodes, [tensor("x", [2, 3, 3])], [tensor("y", [2])])
