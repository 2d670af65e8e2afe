"""csrc/kernels/gather_scatter.cc: GatherElements, ScatterElements, GatherND (batch_dims) and
ScatterND with reductions and negative indices, on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_gather_elements_with_negative_indices(axis, dtype):
    rng = np.random.default_rng(71)
    data = rng.integers(-50, 50, size=(4, 5, 6)).astype(dtype)
    dim = data.shape[axis]
    shape = list(data.shape)
    shape[axis] = 3
    idx = rng.integers(-dim, dim, size=shape).astype(np.int64)
    oracle = "ort" if axis < 0 else "reference"  # onnx.reference mishandles a negative axis
    check_op("GatherElements", [data, idx], {"axis": axis}, opset=13, oracle=oracle)
    check_op(
        "GatherElements", [data, idx.astype(np.int32)], {"axis": axis}, opset=13, oracle=oracle
    )
    # Indices smaller than the data on the other axes too (ONNX Runtime: onnx.reference
    # requires them equal).
    check_op("GatherElements", [data, idx[:2, :3, :4]], {"axis": axis}, opset=13, oracle="ort")


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
@pytest.mark.parametrize("axis", [0, -1])
def test_scatter_elements(reduction, axis):
    rng = np.random.default_rng(72)
    data = rng.uniform(-2, 2, size=(5, 6)).astype(np.float32)
    dim = data.shape[axis]
    # Distinct indices along the axis: with "none", repeated ones leave the order open.
    idx = np.stack([rng.permutation(dim)[:3] for _ in range(4)], axis=1 if axis == 0 else 0)
    idx = (idx - dim * (rng.random(idx.shape) < 0.5)).astype(np.int64)  # some negative
    upd = rng.uniform(-2, 2, size=idx.shape).astype(np.float32)
    check_op("ScatterElements", [data, idx, upd], {"axis": axis, "reduction": reduction}, opset=18)


def test_scatter_elements_add_accumulates_repeated_indices():
    data = np.arange(6, dtype=np.int64).reshape(2, 3)
    idx = np.array([[1, 1, 1, 0]], np.int64)
    upd = np.array([[10, 20, 30, 5]], np.int64)
    check_op("ScatterElements", [data, idx, upd], {"axis": 1, "reduction": "add"}, opset=16)


@pytest.mark.parametrize("batch_dims", [0, 1])
@pytest.mark.parametrize("m", [1, 2])
def test_gather_nd(batch_dims, m):
    rng = np.random.default_rng(73)
    data = rng.uniform(-1, 1, size=(3, 4, 5, 2)).astype(np.float32)
    dims = data.shape[batch_dims : batch_dims + m]
    lead = (3, 2) if batch_dims == 1 else (2, 3)
    idx = np.stack([rng.integers(-d, d, size=lead) for d in dims], axis=-1).astype(np.int64)
    check_op("GatherND", [data, idx], {"batch_dims": batch_dims}, opset=13)


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_scatter_nd(reduction, dtype):
    rng = np.random.default_rng(74)
    data = rng.integers(-5, 5, size=(4, 5, 3)).astype(dtype)
    idx = np.array([[[0, 1], [3, 4]], [[2, 2], [1, 0]]], np.int64)
    upd = rng.integers(-5, 5, size=(2, 2, 3)).astype(dtype)
    check_op("ScatterND", [data, idx, upd], {"reduction": reduction}, opset=18)


def test_scatter_nd_whole_slices():
    rng = np.random.default_rng(75)
    data = rng.uniform(size=(4, 3)).astype(np.float32)
    check_op(
        "ScatterND",
        [data, np.array([[3], [0]], np.int64), rng.uniform(size=(2, 3)).astype(np.float32)],
        opset=13,
    )


def test_declines_with_reason():
    data = np.ones((2, 3), np.float32)
    idx = np.zeros((1, 3), np.int64)
    reason = cpu_reason("ScatterElements", [data, idx, data[:1]], {"reduction": "max"}, opset=16)
    assert "reduction" in reason
    reason = cpu_reason(
        "ScatterND",
        [data.astype(np.uint8), idx[:, :1], data[:1].astype(np.uint8)],
        {"reduction": "add"},
        opset=16,
    )
    assert "reduction" in reason
