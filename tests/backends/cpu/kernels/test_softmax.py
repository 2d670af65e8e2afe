"""Native Softmax (kernels/softmax.cc), opset-13 and legacy forms, matches onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import (  # noqa: F401, F811
    GEMM_TOL,
    assert_matches_onnxruntime,
    assert_matches_reference,
    rand,
    run_native,
)

_native = pytest.importorskip("xinrt._native")


@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
@pytest.mark.parametrize("shape", [(3, 7, 33), (1, 257, 1)], ids=str)
def test_softmax_13_matches_reference(cpu_path, axis, shape):
    rng = np.random.default_rng(5)
    x = rand(rng, shape, low=-20, high=20)
    assert_matches_reference("Softmax", [x], {"axis": axis}, opset=13, tol=GEMM_TOL)


@pytest.mark.parametrize("opset", [1, 11])
def test_softmax_legacy_on_2d_matches_reference(opset):
    x = rand(np.random.default_rng(6), (7, 1000), low=-20, high=20)
    assert_matches_reference("Softmax", [x], {}, opset=opset, tol=GEMM_TOL)


def test_softmax_legacy_coerces_to_2d_like_the_spec():
    # onnx.reference normalises over `axis` alone here; the spec (and ONNX Runtime) flatten
    # dims [axis:] into one, which is what the native kernel does.
    x = rand(np.random.default_rng(7), (2, 3, 5), low=-5, high=5)
    (y,) = run_native("Softmax", [x], {"axis": 1}, opset=11)
    flat = x.reshape(2, 15)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, (e / e.sum(axis=1, keepdims=True)).reshape(x.shape), **GEMM_TOL)
    assert_matches_onnxruntime("Softmax", [x], {"axis": 1}, opset=11, tol=GEMM_TOL)
