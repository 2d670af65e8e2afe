"""Native Conv (kernels/conv.cc) matches onnx.reference on every path."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import GEMM_TOL, assert_matches_reference, rand, run_native  # noqa: F401, F811

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
