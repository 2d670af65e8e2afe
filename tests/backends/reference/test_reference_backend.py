"""The reference backend: onnx.reference plus the spec fixes, checked against ONNX Runtime."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession
from xinrt.backend import get_backend

SHAPE = [2, 4, 3, 5]


def _x(seed=0):
    return np.random.default_rng(seed).standard_normal(SHAPE).astype(np.float32) * 2


def _compare(model, feeds):
    got = InferenceSession(model, backends=["reference"]).run(None, feeds)[0]
    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset", [9, 11, 13])
@pytest.mark.parametrize("axis", [None, 0, 2, -1])
def test_softmax_family_follows_the_spec_in_every_opset(op, opset, axis):
    attrs = {} if axis is None else {"axis": axis}
    model = make_model(
        [helper.make_node(op, ["x"], ["y"], **attrs)],
        [tensor("x", SHAPE)],
        [tensor("y", SHAPE)],
        opset=opset,
    )
    _compare(model, {"x": _x()})


@pytest.mark.parametrize("opset", [7, 9, 14, 15])
def test_batchnorm_inference_uses_the_given_statistics(opset):
    rng = np.random.default_rng(1)
    params = [rng.standard_normal(4).astype(np.float32) for _ in range(3)]
    params.append(rng.uniform(0.5, 1.5, 4).astype(np.float32))
    inits = [numpy_helper.from_array(p, n) for p, n in zip(params, ["s", "b", "m", "v"])]
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)
    model = make_model([node], [tensor("x", SHAPE)], [tensor("y", SHAPE)], inits, opset=opset)
    _compare(model, {"x": _x()})


@pytest.mark.parametrize("size,alpha,beta,bias", [(5, 1e-4, 0.75, 1.0), (3, 0.5, 0.6, 2.0)])
def test_lrn_follows_the_spec(size, alpha, beta, bias):
    node = helper.make_node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)
    model = make_model([node], [tensor("x", SHAPE)], [tensor("y", SHAPE)], opset=13)
    _compare(model, {"x": _x()})


def test_declines_ops_of_unknown_domains_and_training_batchnorm():
    nodes = [
        helper.make_node("Frob", ["x"], ["f"], name="frob", domain="com.example"),
        helper.make_node(
            "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "mean", "var"], name="bn_train"
        ),
    ]
    model = make_model(nodes, [tensor("x", SHAPE)], [tensor("y", SHAPE)], opset=9)
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    answers = get_backend("reference").capability(ir.from_proto(model).graph)
    assert "com.example" in answers["frob"].reason
    assert "training" in answers["bn_train"].reason


def test_image_decoder_is_declined_without_pillow(monkeypatch):
    from xinrt.backends.reference import backend as reference_backend

    monkeypatch.setattr(reference_backend, "_pillow_missing", lambda: True)
    node = helper.make_node("ImageDecoder", ["data"], ["image"], name="decode")
    model = make_model(
        [node],
        [tensor("data", [10], TensorProto.UINT8)],
        [tensor("image", None, TensorProto.UINT8)],
        opset=20,
    )
    answer = get_backend("reference").capability(ir.from_proto(model).graph)["decode"]
    assert not answer.claimed and "pip install pillow" in answer.reason
