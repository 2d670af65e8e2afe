"""Native CNN kernels (Conv, Gemm, pools, norms, shape ops) match onnx.reference on every path."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_native_ops import (  # noqa: E402
    ELEMENTWISE_TOL,
    GEMM_TOL,
    assert_matches_onnxruntime,
    assert_matches_reference,
    cpu_path,  # noqa: F401 - fixture
    rand,
    run_native,
)

_native = pytest.importorskip("xinrt._native")


def conv_inputs(rng, x_shape, w_shape, bias=True):
    fan_in = int(np.prod(w_shape[1:]))
    x = rand(rng, x_shape, low=-1, high=1)
    w = rand(rng, w_shape, low=-1, high=1) / np.float32(np.sqrt(fan_in))
    b = rand(rng, (w_shape[0],), low=-1, high=1) if bias else None
    return [x, w] + ([b] if bias else [])


CONV_CASES = [
    ((1, 3, 7, 7), (4, 3, 3, 3), {}),
    ((2, 3, 9, 8), (5, 3, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 8, 17, 17), (16, 8, 1, 1), {}),
    ((1, 8, 17, 17), (16, 8, 1, 1), {"strides": [2, 2]}),
    ((1, 3, 33, 33), (7, 3, 7, 7), {"strides": [2, 2], "pads": [3, 3, 3, 3]}),
    ((1, 4, 11, 13), (6, 2, 3, 3), {"group": 2, "pads": [1, 0, 2, 1]}),
    ((1, 6, 10, 10), (6, 1, 3, 3), {"group": 6, "pads": [1, 1, 1, 1]}),
    ((1, 4, 10, 10), (8, 1, 3, 3), {"group": 4, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 3, 12, 12), (4, 3, 3, 3), {"dilations": [2, 2], "pads": [2, 2, 2, 2]}),
    ((1, 3, 12, 11), (4, 3, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
    ((1, 3, 12, 11), (4, 3, 4, 4), {"auto_pad": "SAME_LOWER", "strides": [2, 2]}),
    ((1, 3, 12, 11), (4, 3, 3, 3), {"auto_pad": "VALID", "strides": [2, 1]}),
    ((2, 3, 33), (5, 3, 3), {"pads": [1, 1], "strides": [2]}),
    ((1, 64, 14, 14), (257, 64, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 300, 7, 7), (33, 300, 1, 1), {}),
    # Odd sizes on every path: strided im2col by column phases (strides 2 and 3, dilation,
    # asymmetric pads), depthwise rows at strides 1/2/3 with dilation and multipliers, 1x1 inputs.
    ((1, 7, 13, 13), (17, 7, 3, 3), {"strides": [3, 3], "pads": [1, 2, 0, 1]}),
    ((1, 1, 13, 5), (3, 1, 5, 3), {"strides": [2, 3], "dilations": [1, 2], "pads": [2, 1, 2, 1]}),
    ((2, 17, 5, 13), (33, 17, 1, 1), {"strides": [2, 2]}),
    ((1, 33, 1, 1), (7, 33, 1, 1), {}),
    ((1, 3, 1, 1), (5, 3, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 17, 13, 13), (17, 1, 3, 3), {"group": 17, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((2, 7, 13, 5), (7, 1, 3, 3), {"group": 7, "strides": [3, 3], "pads": [1, 0, 1, 2]}),
    ((1, 33, 13, 13), (33, 1, 5, 5), {"group": 33, "dilations": [2, 2], "pads": [4, 4, 4, 4]}),
    ((1, 17, 37, 40), (34, 1, 3, 3), {"group": 17, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 7, 1, 5), (7, 1, 3, 3), {"group": 7, "pads": [1, 1, 1, 1]}),
    ((1, 33, 13, 13), (33, 11, 3, 3), {"group": 3, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((2, 12, 5, 13), (20, 3, 1, 1), {"group": 4}),  # grouped 1x1: whole groups per thread
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.usefixtures("cpu_path")
def test_conv_matches_reference(case, bias):
    x_shape, w_shape, attrs = case
    inputs = conv_inputs(np.random.default_rng(10), x_shape, w_shape, bias)
    assert_matches_reference("Conv", inputs, attrs, opset=11, tol=GEMM_TOL)
    consts = (1, 2) if bias else (1,)
    assert_matches_reference("Conv", inputs, attrs, opset=11, tol=GEMM_TOL, constant_inputs=consts)


def test_conv_rejects_channel_mismatch_naming_node():
    x, w = np.ones((1, 3, 5, 5), np.float32), np.ones((2, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match="conv_node.*Conv.*channels"):
        run_native("Conv", [x, w])


def test_conv_declines_3d_and_int_inputs():
    assert "rank" in _native.check_node(
        "Conv", "", 11, ["float32"] * 2, [[1, 1, 4, 4, 4], None], {}, 1
    )
    assert "int64" in _native.check_node("Conv", "", 11, ["int64"] * 2, [None, None], {}, 1)


GEMM_CASES = [
    ((3, 7), (7, 5), None, {}),
    ((1, 33), (257, 33), (257,), {"transB": 1}),
    ((7, 3), (7, 5), (1, 5), {"transA": 1, "alpha": 0.5, "beta": 2.0}),
    ((7, 3), (5, 7), (3, 1), {"transA": 1, "transB": 1}),
    ((257, 33), (33, 17), (257, 17), {"beta": 0.25}),
    ((2, 300), (300, 1000), (), {"alpha": 2.0}),
    ((9, 300), (1000, 300), (1000,), {"transB": 1}),
]


@pytest.mark.parametrize("case", GEMM_CASES, ids=str)
@pytest.mark.parametrize("constant_b", [False, True])
@pytest.mark.usefixtures("cpu_path")
def test_gemm_matches_reference(case, constant_b):
    a_shape, b_shape, c_shape, attrs = case
    rng = np.random.default_rng(11)
    k = a_shape[0] if attrs.get("transA") else a_shape[1]
    a = rand(rng, a_shape, low=-1, high=1)
    b = rand(rng, b_shape, low=-1, high=1) / np.float32(np.sqrt(k))
    inputs = [a, b] + ([rand(rng, c_shape)] if c_shape is not None else [])
    assert_matches_reference(
        "Gemm", inputs, attrs, opset=13, tol=GEMM_TOL, constant_inputs=(1,) if constant_b else ()
    )


def test_gemm_declines_legacy_opset():
    assert "opset 6" in _native.check_node("Gemm", "", 6, ["float32"] * 3, [None] * 3, {}, 1)


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


POOL_CASES = [
    ((1, 3, 7, 7), {"kernel_shape": [3, 3]}),
    ((2, 3, 9, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 2, 112, 112), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 1, 1]}),
    ((1, 4, 13, 11), {"kernel_shape": [2, 3], "strides": [2, 1], "pads": [1, 0, 0, 2]}),
    ((1, 3, 12, 11), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 3, 12, 11), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "VALID"}),
    ((2, 3, 33), {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    ((1, 3, 7, 7), {"kernel_shape": [7, 7]}),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("opset", [9, 11])
def test_max_pool_matches_reference(case, opset):
    shape, attrs = case
    x = rand(np.random.default_rng(13), shape)
    assert_matches_reference("MaxPool", [x], attrs, opset=opset)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("include_pad", [0, 1])
def test_average_pool_matches_reference(case, include_pad):
    shape, attrs = case
    x = rand(np.random.default_rng(14), shape)
    assert_matches_reference(
        "AveragePool", [x], {**attrs, "count_include_pad": include_pad}, opset=11
    )


@pytest.mark.parametrize("shape", [(1, 3, 7, 7), (2, 5, 12, 9), (1, 4, 3, 9, 11)], ids=str)
@pytest.mark.parametrize("ceil_mode", [0, 1])
def test_max_pool_ceil_mode_and_dilations_match_reference(shape, ceil_mode):
    if len(shape) == 5:
        assert "rank" in _native.check_node(
            "MaxPool", "", 12, ["float32"], [list(shape)], {"kernel_shape": [2, 2, 2]}, 1
        )
        return
    x = rand(np.random.default_rng(15), shape)
    attrs = {"kernel_shape": [3, 2], "strides": [2, 2], "dilations": [1, 2], "ceil_mode": ceil_mode}
    assert_matches_reference("MaxPool", [x], attrs, opset=12)


@pytest.mark.parametrize("shape", [(1, 3, 9, 8), (2, 5, 12, 7)], ids=str)
def test_average_pool_ceil_mode_matches_reference(shape):
    x = rand(np.random.default_rng(16), shape)
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "count_include_pad": 0}
    assert_matches_reference("AveragePool", [x], attrs, opset=11)


def test_pools_decline_what_they_do_not_compute():
    reason = _native.check_node("MaxPool", "", 12, ["float32"], [None], {"kernel_shape": [2, 2]}, 2)
    assert "Indices" in reason
    reason = _native.check_node(
        "AveragePool", "", 19, ["float32"], [None], {"kernel_shape": [2, 2], "dilations": [2, 2]}, 1
    )
    assert "dilations" in reason


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize(
    "shape", [(1, 3, 7, 7), (2, 33, 1, 1), (2, 3, 5), (1, 2, 3, 4, 5)], ids=str
)
def test_global_pools_match_reference(op, shape):
    x = rand(np.random.default_rng(17), shape)
    if op == "GlobalMaxPool" and len(shape) != 4:
        # onnx.reference's GlobalMaxPool assumes 4-D; the spec keeps every spatial dim as 1.
        assert_matches_onnxruntime(op, [x], opset=11)
    else:
        assert_matches_reference(op, [x], opset=11)


def lrn_spec(x, size, alpha, beta, bias):
    """The ONNX spec's LRN (onnx.reference's loop runs over the batch dim instead of channels)."""
    c = x.shape[1]
    sq = np.zeros_like(x)
    for i in range(c):
        lo, hi = max(0, i - (size - 1) // 2), min(c, i + (size - 1) - (size - 1) // 2 + 1)
        sq[:, i] = (x[:, lo:hi] ** 2).sum(axis=1)
    return x / (bias + alpha / size * sq) ** beta


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_lrn_matches_the_spec_and_onnxruntime(size):
    ort = pytest.importorskip("onnxruntime")
    from test_native_ops import one_node_model

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


@pytest.mark.parametrize(
    "shapes", [((2, 3), (2, 3), (2, 3)), ((3, 1), (1, 4), (4,)), ((7,),)], ids=str
)
def test_sum_variadic_broadcasting_matches_reference(shapes):
    rng = np.random.default_rng(19)
    assert_matches_reference("Sum", [rand(rng, s) for s in shapes], opset=13)


@pytest.mark.parametrize(
    "op,attrs",
    [
        ("LeakyRelu", {}),
        ("LeakyRelu", {"alpha": 0.3}),
        ("Clip", {"min": -0.5}),
        ("Clip", {"min": -0.5, "max": 0.7}),
        ("Clip", {}),
    ],
)
def test_leaky_relu_and_clip_attribute_forms_match_reference(op, attrs):
    x = rand(np.random.default_rng(20), (3, 33))
    x[0, :3] = [np.inf, -np.inf, 0.0]
    assert_matches_reference(op, [x], attrs, opset=6)


@pytest.mark.parametrize("bounds", [(-0.5, 0.7), (-0.5, None), (None, 0.2), (None, None)])
def test_clip_input_form_matches_reference(bounds):
    x = rand(np.random.default_rng(21), (3, 33))
    inputs = [x] + [np.array(b, np.float32) if b is not None else None for b in bounds]
    while inputs[-1] is None:
        inputs.pop()
    assert_matches_reference("Clip", inputs, opset=13)
    assert_matches_reference("Clip", inputs, opset=13, constant_inputs=(1, 2))


ALL_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


def typed(rng, shape, dtype):
    return (rng.standard_normal(shape) * 10).astype(dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_shape_ops_move_every_dtype_like_reference(dtype):
    rng = np.random.default_rng(22)
    x = typed(rng, (2, 3, 4, 5), dtype)
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    exact = {"rtol": 0, "atol": 0}
    assert_matches_reference("Identity", [x], opset=13, tol=exact)
    assert_matches_reference("Reshape", [x, i64([0, -1, 5])], opset=13, tol=exact)
    assert_matches_reference(
        "Reshape", [x, i64([6, 20])], opset=14, tol=exact, constant_inputs=(1,)
    )
    assert_matches_reference("Flatten", [x], {"axis": 2}, opset=13, tol=exact)
    assert_matches_reference("Flatten", [x], {"axis": -1}, opset=13, tol=exact)
    assert_matches_reference("Flatten", [x], {"axis": 0}, opset=13, tol=exact)
    assert_matches_reference("Transpose", [x], {"perm": [0, 2, 1, 3]}, opset=13, tol=exact)
    assert_matches_reference("Transpose", [x], {"perm": [3, 1, 0, 2]}, opset=13, tol=exact)
    assert_matches_reference("Transpose", [x], opset=13, tol=exact)
    assert_matches_reference(
        "Concat", [x, typed(rng, (2, 1, 4, 5), dtype), x], {"axis": 1}, opset=13, tol=exact
    )
    assert_matches_reference("Concat", [x, x], {"axis": -1}, opset=13, tol=exact)
    y = typed(rng, (2, 1, 4, 1), dtype)
    assert_matches_reference("Squeeze", [y], {"axes": [1, -1]}, opset=11, tol=exact)
    assert_matches_reference("Squeeze", [y], opset=11, tol=exact)
    assert_matches_reference("Squeeze", [y, i64([3])], opset=13, tol=exact)
    assert_matches_reference("Squeeze", [y], opset=13, tol=exact)
    assert_matches_reference("Unsqueeze", [x], {"axes": [0, 5]}, opset=11, tol=exact)
    assert_matches_reference(
        "Unsqueeze", [x, i64([-1, 1])], opset=13, tol=exact, constant_inputs=(1,)
    )


def test_reshape_allowzero_and_errors():
    x = np.zeros((0, 3), np.float32)
    assert_matches_reference("Reshape", [x, np.array([3, 0], np.int64)], {"allowzero": 1}, opset=14)
    with pytest.raises(ValueError, match="reshape_node.*Reshape"):
        run_native("Reshape", [np.ones((2, 3), np.float32), np.array([4, -1], np.int64)])


def test_transpose_shufflenet_channel_shuffle():
    x = rand(np.random.default_rng(23), (1, 4, 6, 7, 7))
    assert_matches_reference("Transpose", [x], {"perm": [0, 2, 1, 3, 4]}, opset=9)


@pytest.mark.parametrize("opset", [7, 10, 13])
def test_dropout_is_identity_with_true_mask(opset):
    x = rand(np.random.default_rng(24), (3, 7))
    assert_matches_reference("Dropout", [x], {"ratio": 0.3} if opset < 12 else {}, opset=opset)
    assert_matches_reference("Dropout", [x], {}, opset=opset, num_outputs=2)


def test_dropout_declines_training_mode():
    shapes = [None, None, None]
    reason = _native.check_node("Dropout", "", 13, ["float32", "float32", "bool"], shapes, {}, 1)
    assert "training_mode" in reason
    x = rand(np.random.default_rng(25), (3, 7))
    assert_matches_reference(
        "Dropout", [x, np.array(0.5, np.float32), np.array(False)], opset=13, constant_inputs=(1, 2)
    )


@pytest.mark.parametrize(
    "value", [None, np.array([1.5], np.float32), np.array([7], np.int64), np.array([True])], ids=str
)
def test_constant_of_shape_matches_reference(value):
    attrs = {} if value is None else {"value": value}
    shape = np.array([2, 3, 1], np.int64)
    exact = {"rtol": 0, "atol": 0}
    assert_matches_reference("ConstantOfShape", [shape], attrs, opset=9, tol=exact)
    assert_matches_reference(
        "ConstantOfShape", [shape], attrs, opset=9, tol=exact, constant_inputs=(0,)
    )
