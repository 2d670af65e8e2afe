"""Native Gemm (kernels/gemm.cc) matches onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import GEMM_TOL, assert_matches_reference, rand  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


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
