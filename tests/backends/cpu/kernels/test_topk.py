"""csrc/kernels/topk.cc: TopK (k as attribute and input, largest/smallest, ties, negative axes)
on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("largest", [0, 1])
@pytest.mark.parametrize("k", [0, 1, 3, 4])
def test_topk_with_ties_keeps_lower_index_first(axis, largest, k):
    x = np.random.default_rng(61).integers(-3, 3, size=(4, 5, 6)).astype(np.float32)
    check_op(
        "TopK",
        [x, np.array([k], np.int64)],
        {"axis": axis, "largest": largest},
        opset=11,
        num_outputs=2,
    )


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float64, np.uint8])
def test_topk_other_dtypes(dtype):
    x = np.random.default_rng(62).integers(0, 100, size=(3, 33)).astype(dtype)
    check_op("TopK", [x, np.array([5], np.int64)], opset=11, num_outputs=2, constant=(1,))


def test_topk_opset1_attribute_k():
    x = np.random.default_rng(63).uniform(-1, 1, size=(6, 7)).astype(np.float32)
    check_op("TopK", [x], {"k": 3, "axis": 0}, opset=1, num_outputs=2)


def test_declines_with_reason():
    x = np.ones((2, 3), np.float32)
    assert "out of range" in cpu_reason(
        "TopK", [x, np.array([1], np.int64)], {"axis": 2}, opset=11, num_outputs=2
    )
