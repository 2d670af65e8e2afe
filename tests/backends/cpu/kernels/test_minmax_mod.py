"""csrc/kernels/minmax_mod.cc: variadic Min/Max/Mean with broadcasting and Mod (both fmod
modes, negative operands), on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

SHAPE_SETS = [[(7,)], [(3, 1, 5), (4, 1)], [(2, 3), (), (1, 3)], [(0, 4), (4,)]]


@pytest.mark.parametrize("op", ["Min", "Max", "Mean"])
@pytest.mark.parametrize("shapes", SHAPE_SETS, ids=str)
def test_variadic_float_broadcasts(op, shapes):
    rng = np.random.default_rng(31)
    xs = [rng.uniform(-5, 5, size=s).astype(np.float32) for s in shapes]
    # ONNX Runtime for Mean: onnx.reference's Mean adds in place into the first input's shape.
    check_op(op, xs, opset=13, oracle="ort" if op == "Mean" else "reference")


@pytest.mark.parametrize("op", ["Min", "Max"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, np.float64])
def test_min_max_other_dtypes(op, dtype):
    rng = np.random.default_rng(32)
    xs = [rng.integers(0, 100, size=s).astype(dtype) for s in [(3, 4), (4,), (1, 4)]]
    check_op(op, xs, opset=13)


@pytest.mark.parametrize("op", ["Min", "Max"])
def test_min_max_propagate_nan(op):
    a = np.array([np.nan, 1.0, 2.0, np.nan], np.float32)
    b = np.array([0.0, np.nan, 3.0, np.nan], np.float32)
    (y,) = check_op(op, [a, b], opset=13)
    assert np.isnan(y[[0, 1, 3]]).all()


@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
def test_integer_mod_signs_follow_the_fmod_mode(fmod, dtype):
    rng = np.random.default_rng(33)
    a = rng.integers(-100, 100, size=(4, 9)).astype(dtype)
    b = rng.integers(-9, 10, size=(9,)).astype(dtype)
    b[b == 0] = 7
    check_op("Mod", [a, b], {"fmod": fmod}, opset=13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_fmod_matches_reference(dtype):
    rng = np.random.default_rng(34)
    a = rng.uniform(-10, 10, size=(5, 6)).astype(dtype)
    b = rng.uniform(0.5, 3, size=(6,)).astype(dtype) * rng.choice([-1, 1], 6).astype(dtype)
    check_op("Mod", [a, b], {"fmod": 1}, opset=13)


def test_declines_with_reason():
    x = np.ones((3,), np.float32)
    assert "fmod=1" in cpu_reason("Mod", [x, x], {"fmod": 0}, opset=13)
    assert "float32" in cpu_reason("Max", [x.astype(np.int64)] * 2, opset=8)
    assert "dtypes differ" in cpu_reason("Min", [x, x.astype(np.float64)], opset=13)
