"""csrc/kernels/sequence_ops.cc: Range, CumSum, NonZero, Trilu and OneHot on cpu alone (strict),
against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")


@pytest.mark.parametrize(
    "start,limit,delta",
    [(0, 10, 3), (10, -7, -4), (5, 5, 1), (3, 1, 2), (-8, 9, 1)],
)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_range(start, limit, delta, dtype):
    scalars = [np.array(v, dtype) for v in (start, limit, delta)]
    check_op("Range", scalars, opset=11)


def test_range_fractional_float_steps():
    scalars = [np.array(v, np.float32) for v in (0.5, 7.3, 0.7)]
    check_op("Range", scalars, opset=11, tol={"rtol": 1e-6, "atol": 1e-6})


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("exclusive", [0, 1])
@pytest.mark.parametrize("reverse", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.float64])
def test_cumsum(axis, exclusive, reverse, dtype):
    x = np.random.default_rng(51).integers(-9, 9, size=(3, 4, 5)).astype(dtype)
    if dtype == np.float32:
        x = x * np.float32(0.3)
    attrs = {"exclusive": exclusive, "reverse": reverse}
    check_op("CumSum", [x, np.array(axis, np.int64)], attrs, opset=14)
    check_op("CumSum", [x, np.array(axis, np.int32)], attrs, opset=14, constant=(1,))


@pytest.mark.parametrize("exclusive", [0, 1])
@pytest.mark.parametrize("reverse", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.float64])
def test_cumprod(exclusive, reverse, dtype):
    x = np.random.default_rng(55).integers(-3, 4, size=(3, 4, 5)).astype(dtype)
    if dtype == np.float32:
        x = x * np.float32(0.7)
    attrs = {"exclusive": exclusive, "reverse": reverse}
    check_op("CumProd", [x, np.array(-1, np.int64)], attrs, opset=26, tol={"rtol": 1e-6, "atol": 0})


@pytest.mark.parametrize(
    "dtype", [np.float32, np.int64, np.int32, np.uint8, np.bool_, np.float64, np.float16]
)
@pytest.mark.parametrize("shape", [(9,), (3, 4, 5), (0, 3)], ids=str)
def test_nonzero(dtype, shape):
    x = np.random.default_rng(52).integers(-1, 2, size=shape).astype(dtype)
    check_op("NonZero", [x], opset=13)


def test_nonzero_treats_negative_zero_as_zero_and_nan_as_nonzero():
    x = np.array([0.0, -0.0, np.nan, 1.0], np.float32)
    (y,) = check_op("NonZero", [x], opset=13)
    np.testing.assert_array_equal(y, [[2, 3]])


@pytest.mark.parametrize("upper", [0, 1])
@pytest.mark.parametrize("k", [None, -2, 0, 1, 7])
@pytest.mark.parametrize("shape", [(4, 6), (2, 5, 3), (0, 3)], ids=str)
def test_trilu(upper, k, shape):
    x = np.random.default_rng(53).uniform(-1, 1, size=shape).astype(np.float32)
    inputs = [x] if k is None else [x, np.array(k, np.int64)]
    check_op("Trilu", inputs, {"upper": upper}, opset=14)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32, np.float32])
def test_onehot_with_negative_and_out_of_range_indices(axis, idx_dtype):
    idx = np.array([[0, 3, -1], [5, -5, 2]], idx_dtype)  # 5 and -5 are outside depth 4
    depth = np.array(4, np.int64)
    values = np.array([-2.0, 7.5], np.float32)
    check_op("OneHot", [idx, depth, values], {"axis": axis}, opset=11)


def test_onehot_int_values_and_float_depth():
    idx = np.random.default_rng(54).integers(0, 6, size=(5,)).astype(np.int64)
    check_op("OneHot", [idx, np.array(6.0, np.float32), np.array([0, 1], np.int64)], opset=11)


def test_declines_with_reason():
    assert "rank" in cpu_reason("Trilu", [np.ones((3,), np.float32)], opset=14)
    assert "0-d" in cpu_reason("NonZero", [np.array(1.0, np.float32)], opset=13)
