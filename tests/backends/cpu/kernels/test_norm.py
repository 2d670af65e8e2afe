"""Native BatchNormalization, LRN and LayerNormalization (kernels/norm.cc) match onnx.reference
or ONNX Runtime."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import (  # noqa: F401, F811
    ELEMENTWISE_TOL,
    GEMM_TOL,
    assert_matches_onnxruntime,
    assert_matches_reference,
    one_node_model,
    rand,
    run_native,
)

_native = pytest.importorskip("xinrt._native")


def batchnorm_inputs(shape):
    rng = np.random.default_rng(12)
    c = shape[1]
    return [
        rand(rng, shape),
        rand(rng, (c,)),
        rand(rng, (c,)),
        rand(rng, (c,)),
        rand(rng, (c,), low=0.1, high=2.0),
    ]


BN_SHAPES = [(2, 3, 5, 7), (1, 33), (3, 4, 9)]


def lrn_spec(x, size, alpha, beta, bias):
    """The ONNX spec's LRN (onnx.reference's loop runs over the batch dim instead of channels)."""
    c = x.shape[1]
    sq = np.zeros_like(x)
    for i in range(c):
        lo, hi = max(0, i - (size - 1) // 2), min(c, i + (size - 1) - (size - 1) // 2 + 1)
        sq[:, i] = (x[:, lo:hi] ** 2).sum(axis=1)
    return x / (bias + alpha / size * sq) ** beta


@pytest.mark.parametrize("opset", [15])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_batch_normalization_matches_reference(opset, shape):
    assert_matches_reference(
        "BatchNormalization",
        batchnorm_inputs(shape),
        {"epsilon": 1e-3},
        opset=opset,
        tol=GEMM_TOL,
        constant_inputs=(1, 2, 3, 4),
    )
    assert_matches_reference(
        "BatchNormalization", batchnorm_inputs(shape), {}, opset=opset, tol=GEMM_TOL
    )


@pytest.mark.parametrize(
    "opset,attrs", [(6, {"is_test": 1}), (7, {}), (9, {}), (9, {"momentum": 0.5})]
)
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_normalization_inference_where_reference_uses_batch_stats(opset, attrs, shape):
    # onnx.reference runs opsets 7-13 in training mode (batch statistics); the spec's
    # single-output form is inference, as ONNX Runtime computes it.
    if opset == 6:
        assert_matches_reference(
            "BatchNormalization", batchnorm_inputs(shape), attrs, opset=opset, tol=GEMM_TOL
        )
    else:
        assert_matches_onnxruntime(
            "BatchNormalization", batchnorm_inputs(shape), attrs, opset=opset, tol=GEMM_TOL
        )


def test_batch_normalization_declines_training():
    inputs = ["float32"] * 5
    assert "training_mode" in _native.check_node(
        "BatchNormalization", "", 15, inputs, [None] * 5, {"training_mode": 1}, 1
    )
    assert "training" in _native.check_node("BatchNormalization", "", 9, inputs, [None] * 5, {}, 5)
    assert "spatial" in _native.check_node(
        "BatchNormalization", "", 7, inputs, [None] * 5, {"spatial": 0}, 1
    )


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_lrn_matches_the_spec_and_onnxruntime(size):
    ort = pytest.importorskip("onnxruntime")

    x = rand(np.random.default_rng(18), (2, 7, 5, 4))
    attrs = {"size": size, "alpha": 1e-2, "beta": 0.75, "bias": 2.0}
    (y,) = run_native("LRN", [x], attrs, opset=13)
    np.testing.assert_allclose(y, lrn_spec(x, **attrs), **ELEMENTWISE_TOL)
    if size % 2 == 0:
        return  # ONNX Runtime accepts odd sizes only
    sess = ort.InferenceSession(
        one_node_model("LRN", [x], attrs, 13, output_dtype=x.dtype).SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    np.testing.assert_allclose(y, sess.run(None, {"x0": x})[0], **ELEMENTWISE_TOL)


@pytest.mark.parametrize("axis", [-1, -2, 1, 0])
@pytest.mark.parametrize("shape", [(3, 7, 33), (2, 257), (1, 5)], ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_layer_norm_matches_reference(axis, shape):
    if axis >= len(shape) or -axis > len(shape):
        pytest.skip("axis out of range")
    rng = np.random.default_rng(6)
    x = rand(rng, shape)
    norm = shape[axis:]
    scale, bias = rand(rng, norm), rand(rng, norm)
    attrs = {"axis": axis, "epsilon": 1e-3}
    assert_matches_reference(
        "LayerNormalization", [x, scale, bias], attrs, tol={"rtol": 1e-4, "atol": 1e-5}
    )
    assert_matches_reference(
        "LayerNormalization", [x, scale], attrs, tol={"rtol": 1e-4, "atol": 1e-5}
    )


def test_layer_norm_stash_outputs_are_declined():
    reason = _native.check_node("LayerNormalization", "", 17, ["float32"] * 3, [None] * 3, {}, 3)
    assert "Mean/InvStdDev" in reason
