"""csrc/kernels/reduce_ops.cc: the Reduce* family beyond Sum/Mean and ArgMax/ArgMin, with axes
as attribute (opset 13) or input (opset 18), keepdims, noop_with_empty_axes and negative axes, on
cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

REDUCE_OPS = [
    "ReduceMax",
    "ReduceMin",
    "ReduceProd",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceSumSquare",
]
AXES = [None, [1], [-1], [0, 2], [-3, -1]]
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _input(op, rng, shape=(3, 4, 5), dtype=np.float32):
    low = 0.1 if op == "ReduceLogSum" else -2.0
    return rng.uniform(low, 2.0, size=shape).astype(dtype)


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("axes", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_axes_attribute_opset13(op, axes, keepdims):
    x = _input(op, np.random.default_rng(41))
    attrs = {"keepdims": keepdims} | ({"axes": axes} if axes is not None else {})
    check_op(op, [x], attrs, opset=13, tol=TOL)


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("axes", AXES, ids=str)
def test_reduce_axes_input_opset18(op, axes):
    x = _input(op, np.random.default_rng(42))
    a = None if axes is None else np.array(axes, np.int64)
    check_op(op, [x, a], {"keepdims": 0}, opset=18, tol=TOL)
    if a is not None:
        check_op(op, [x, a], {"keepdims": 1}, opset=18, tol=TOL, constant=(1,))


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_empty_axes_with_noop_reduces_each_element_alone(op):
    x = _input(op, np.random.default_rng(43))
    (y,) = check_op(op, [x, np.array([], np.int64)], {"noop_with_empty_axes": 1}, opset=18)
    if op in ("ReduceMax", "ReduceMin"):
        np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize(
    "op", ["ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1"]
)
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_reductions(op, dtype):
    # ONNX Runtime: onnx.reference widens int32 sums of squares to int64.
    x = np.random.default_rng(44).integers(-9, 9, size=(3, 4, 2)).astype(dtype)
    check_op(op, [x, np.array([1], np.int64)], opset=18, oracle="ort")


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin"])
def test_max_min_of_bool_and_uint8(op):
    rng = np.random.default_rng(45)
    check_op(op, [rng.random((3, 5)) < 0.5, np.array([1], np.int64)], opset=20)
    check_op(op, [rng.integers(0, 255, (3, 5), dtype=np.uint8)], opset=18)


def test_reduce_max_propagates_nan():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np.float32)
    check_op("ReduceMax", [x, np.array([1], np.int64)], opset=18)


def test_reduce_over_an_empty_tensor_keeps_shape():
    x = np.zeros((0, 4), np.float32)
    check_op("ReduceSumSquare", [x, np.array([0], np.int64)], opset=18)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("last", [0, 1])
def test_argmax_argmin_with_ties(op, axis, keepdims, last):
    rng = np.random.default_rng(46)
    x = rng.integers(-3, 3, size=(4, 5, 6)).astype(np.float32)  # many ties
    check_op(op, [x], {"axis": axis, "keepdims": keepdims, "select_last_index": last}, opset=13)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float64])
def test_argmax_other_dtypes(dtype):
    x = np.random.default_rng(47).integers(0, 50, size=(6, 7)).astype(dtype)
    check_op("ArgMax", [x], {"axis": 1}, opset=13)
    check_op("ArgMin", [x], {"axis": 0, "keepdims": 0}, opset=11)


def test_declines_with_reason():
    x = np.ones((2, 3), np.int64)
    assert "float32" in cpu_reason("ReduceL2", [x], opset=13)
    assert "out of range" in cpu_reason("ArgMax", [x.astype(np.float32)], {"axis": 2}, opset=13)
