"""Native ConvTranspose (kernels/convtranspose.cc) matches onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import (  # noqa: F401, F811
    assert_matches_onnxruntime,
    assert_matches_reference,
    rand,
)

_native = pytest.importorskip("xinrt._native")


CONV_T_CASES = [
    ((1, 3, 5, 5), (3, 2, 3, 3), {}),
    (
        (2, 4, 7, 3),
        (4, 3, 3, 2),
        {"strides": [2, 3], "pads": [1, 0, 2, 1], "output_padding": [1, 2]},
    ),
    ((1, 6, 4, 5), (6, 1, 3, 3), {"group": 3, "dilations": [2, 1], "strides": [1, 2]}),
    ((1, 1, 1, 1), (1, 7, 2, 2), {"strides": [3, 3]}),
    ((1, 4, 9, 9), (4, 2, 1, 1), {"group": 2, "pads": [0, 0, 1, 1]}),
]


@pytest.mark.parametrize("x_shape,w_shape,attrs", CONV_T_CASES, ids=str)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.usefixtures("cpu_path")
def test_conv_transpose_matches_reference(x_shape, w_shape, attrs, bias):
    rng = np.random.default_rng(6)
    x, w = rand(rng, x_shape), rand(rng, w_shape)
    m = w_shape[1] * attrs.get("group", 1)
    inputs = [x, w] + ([rand(rng, (m,))] if bias else [])
    # onnx.reference mishandles group > 1 (ONNX Runtime agrees with the spec there).
    check = assert_matches_onnxruntime if attrs.get("group", 1) > 1 else assert_matches_reference
    check("ConvTranspose", inputs, attrs, tol={"rtol": 1e-5, "atol": 1e-5}, constant_inputs=(1,))


@pytest.mark.parametrize("attrs", [{"output_shape": [10, 10]}, {"auto_pad": "SAME_UPPER"}], ids=str)
def test_conv_transpose_unsupported_attributes_are_declined(attrs):
    assert _native.check_node("ConvTranspose", "", 17, ["float32"] * 2, [None] * 2, attrs, 1) != ""
