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


def _loop_model(step_shape, with_cond):
    """s = tanh(s) three times, every s a scan output; `with_cond` False gives cond input ""."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Tanh", ["s_in"], ["s_out"]),
            helper.make_node("Identity", ["s_out"], ["scan"]),
        ],
        "body",
        [tensor("i", [], TensorProto.INT64), tensor("cond_in", [], TensorProto.BOOL),
         tensor("s_in", step_shape)],
        [tensor("cond_out", [], TensorProto.BOOL), tensor("s_out", step_shape),
         tensor("scan", step_shape)],
    )  # fmt: skip
    inits = [numpy_helper.from_array(np.array(3, np.int64), "M")]
    if with_cond:
        inits.append(numpy_helper.from_array(np.array(True), "cond"))
    loop_inputs = ["M", "cond" if with_cond else "", "s0"]
    node = helper.make_node("Loop", loop_inputs, ["s", "all"], body=body)
    outputs = [tensor("s", step_shape), tensor("all", [3, *step_shape])]
    return make_model([node], [tensor("s0", step_shape)], outputs, inits, opset=17)


@pytest.mark.parametrize("step_shape", [[], [4], [1, 6]])
@pytest.mark.parametrize("with_cond", [True, False])
def test_loop_stacks_scan_outputs_and_runs_without_a_cond_input(step_shape, with_cond):
    """onnx.reference concatenates scan outputs ([1, 6] per step gave [3, 6]) and runs no step
    when `cond` is absent; fixes.Loop stacks them and runs M steps, as the spec and ORT do."""
    model = _loop_model(step_shape, with_cond)
    s0 = np.random.default_rng(5).standard_normal(step_shape).astype(np.float32)
    got = InferenceSession(model, backends=["reference"]).run(None, {"s0": s0})
    want = ort.InferenceSession(model.SerializeToString()).run(None, {"s0": s0})
    assert got[1].shape == (3, *step_shape)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("opset", [10, 13, 18])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_dequantize_linear_before_opset_19(opset, dtype):
    """onnx.reference has no DequantizeLinear kernel for opsets 10-18."""
    rng = np.random.default_rng(6)
    info = np.iinfo(dtype)
    per_axis = opset >= 13
    scale = rng.uniform(0.01, 1, 3 if per_axis else ()).astype(np.float32)
    zero = rng.integers(info.min, info.max + 1, scale.shape).astype(dtype)
    inits = [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zero, "z")]
    attrs = {"axis": 1} if per_axis else {}
    node = helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], **attrs)
    model = make_model(
        [node], [tensor("x", [2, 3], TensorProto.UINT8 if dtype == np.uint8 else TensorProto.INT8)],
        [tensor("y", [2, 3])], inits, opset=opset,
    )  # fmt: skip
    _compare(model, {"x": rng.integers(info.min, info.max + 1, (2, 3)).astype(dtype)})


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


@pytest.mark.parametrize(
    "attrs, sequence_lens, reason",
    [
        ({"clip": 0.5}, False, "clip"),
        ({"input_forget": 1}, False, "input_forget"),
        ({"activations": ["Sigmoid", "Tanh", "Tanh"]}, False, "activations"),
        ({"activation_alpha": [0.3]}, False, "activation_alpha"),
        ({}, True, "sequence_lens"),
    ],
)
def test_recurrent_options_the_evaluator_ignores_are_declined(attrs, sequence_lens, reason):
    """onnx.reference's LSTM reads these and computes as if they were absent: never claimed."""
    inputs = ["x", "W", "R", "", "sl"] if sequence_lens else ["x", "W", "R"]
    node = helper.make_node("LSTM", inputs, ["y"], hidden_size=4, name="lstm", **attrs)
    graph_inputs = [tensor("x", [5, 2, 3]), tensor("W", [1, 16, 3]), tensor("R", [1, 16, 4])]
    if sequence_lens:
        graph_inputs.append(tensor("sl", [2], TensorProto.INT32))
    model = make_model([node], graph_inputs, [tensor("y", [5, 1, 2, 4])])
    graph = ir.from_proto(model).graph
    answer = get_backend("reference").capability(graph)["lstm"]
    assert not answer.claimed and reason in answer.reason
    plain = make_model(
        [helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=4, name="lstm")],
        graph_inputs[:3],
        [tensor("y", [5, 1, 2, 4])],
    )
    assert get_backend("reference").capability(ir.from_proto(plain).graph)["lstm"].claimed
