"""csrc/kernels/select_ops.cc: Compress, ReverseSequence and Unique on cpu alone (strict),
against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_compress(axis, dtype):
    rng = np.random.default_rng(161)
    x = rng.integers(0, 9, size=(4, 5, 3)).astype(dtype)
    n = x.size if axis is None else x.shape[axis]
    cond = rng.random(n - 1) < 0.5  # shorter than the axis: the rest is dropped
    attrs = {} if axis is None else {"axis": axis}
    check_op("Compress", [x, cond], attrs, opset=11)


@pytest.mark.parametrize("time_axis,batch_axis", [(0, 1), (1, 0)])
def test_reverse_sequence(time_axis, batch_axis):
    rng = np.random.default_rng(162)
    shape = (5, 4, 3) if time_axis == 0 else (4, 5, 3)
    x = rng.uniform(-1, 1, size=shape).astype(np.float32)
    lens = np.array([5, 1, 3, 0], np.int64)
    attrs = {"time_axis": time_axis, "batch_axis": batch_axis}
    check_op("ReverseSequence", [x, lens], attrs, opset=10)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.uint8])
def test_unique_sorted_all_outputs(dtype):
    x = np.random.default_rng(163).integers(0, 7, size=(4, 6)).astype(dtype)
    check_op("Unique", [x], {"sorted": 1}, opset=11, num_outputs=4)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_unique_in_first_occurrence_order(dtype):
    # ONNX Runtime (float and int64 only): onnx.reference fails on sorted=0 with an IndexError.
    x = np.random.default_rng(164).integers(0, 7, size=(4, 6)).astype(dtype)
    check_op("Unique", [x], {"sorted": 0}, opset=11, num_outputs=4, oracle="ort")


def test_unique_declines_axis():
    x = np.ones((2, 3), np.float32)
    assert "axis" in cpu_reason("Unique", [x], {"axis": 0}, opset=11, num_outputs=4)
