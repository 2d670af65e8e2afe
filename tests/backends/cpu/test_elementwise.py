"""csrc/kernels/elementwise.cc and compare.cc on float64: Add/Sub/Mul/Div and the comparisons
with broadcasting, on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op

pytest.importorskip("xinrt._native")

PAIRS = [((7,), (7,)), ((3, 1, 5), (4, 1)), ((), (2, 3)), ((0, 3), (3,))]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_float64_arithmetic_broadcasts(op, shapes):
    rng = np.random.default_rng(151)
    a = rng.uniform(-3, 3, size=shapes[0])
    b = rng.uniform(0.5, 3, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])
    check_op(op, [a, b], opset=14, tol={"rtol": 1e-15, "atol": 0})


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def test_float64_comparisons(op):
    rng = np.random.default_rng(152)
    a = rng.integers(-3, 3, size=(4, 5)).astype(np.float64)
    b = rng.integers(-3, 3, size=(5,)).astype(np.float64)
    check_op(op, [a, b], opset=13)
