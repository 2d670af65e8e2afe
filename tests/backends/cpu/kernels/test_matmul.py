"""Native MatMul (kernels/matmul.cc) matches onnx.reference on every SIMD path."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import GEMM_TOL, assert_matches_reference, rand, run_native  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


MATMUL_SHAPES = [
    ((1, 1), (1, 1)),
    ((3, 7), (7, 33)),
    ((257, 33), (33, 7)),
    ((7,), (7, 3)),
    ((3, 7), (7,)),
    ((33,), (33,)),
    ((2, 3, 7, 33), (33, 5)),
    ((2, 1, 7, 33), (3, 33, 9)),
    ((5, 7), (2, 7, 3)),
    ((1, 300, 260), (260, 301)),
    ((2, 7, 513), (2, 513, 17)),
    # Few rows against a constant B: the panel GEMV (gemv.h), over several K blocks and
    # partial panels, one and several rows, batch rows stacked.
    ((1, 600), (600, 45)),
    ((4, 513), (513, 100)),
    ((2, 1, 300), (300, 33)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_reference(cpu_path, shapes):
    rng = np.random.default_rng(4)
    # Unit-scale results, so float32 summation order stays inside the absolute tolerance.
    a, b = rand(rng, shapes[0], low=-1, high=1), rand(rng, shapes[1], low=-1, high=1)
    b /= np.float32(np.sqrt(shapes[1][0] if len(shapes[1]) == 1 else shapes[1][-2]))
    assert_matches_reference("MatMul", [a, b], tol=GEMM_TOL)
    assert_matches_reference("MatMul", [a, b], tol=GEMM_TOL, constant_inputs=(1,), threads=1)
    assert_matches_reference("MatMul", [a, b], tol=GEMM_TOL, constant_inputs=(1,), threads=2)


def test_matmul_mismatched_inner_dims_raises_value_error_naming_node():
    with pytest.raises(ValueError, match="matmul_node.*MatMul.*inner"):
        run_native("MatMul", [np.ones((2, 3), np.float32), np.ones((4, 2), np.float32)])


@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 128, 256), (256, 256)),
        ((4, 128, 64), (4, 64, 128)),
        ((3, 1, 7, 33), (5, 33, 3)),
        ((257,), (257, 7)),
        ((2, 7, 1), (1,)),
    ],
    ids=str,
)
@pytest.mark.parametrize("constant_b", [False, True])
@pytest.mark.usefixtures("cpu_path")
def test_matmul_transformer_shapes_match_reference(shapes, constant_b):
    rng = np.random.default_rng(17)
    a, b = rand(rng, shapes[0]), rand(rng, shapes[1])
    tol = {"rtol": 1e-4, "atol": 1e-4}  # K up to 257 terms of +-4: sums cancel to ~1e-2
    assert_matches_reference("MatMul", [a, b], tol=tol, constant_inputs=(1,) if constant_b else ())
