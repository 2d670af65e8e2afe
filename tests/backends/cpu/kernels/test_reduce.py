"""Native reductions (kernels/reduce.cc) match onnx.reference for attribute and input axes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import assert_matches_reference, rand  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


REDUCE_CASES = [
    ((3, 7, 33), [-1], 1),
    ((3, 7, 33), [0, 2], 0),
    ((3, 7, 33), [1], 1),
    ((257,), [0], 0),
    ((2, 3, 4, 5), [1, 2], 1),
    ((2, 3, 4, 5), None, 0),
]


@pytest.mark.parametrize("op", ["ReduceMean", "ReduceSum"])
@pytest.mark.parametrize("shape,axes,keepdims", REDUCE_CASES, ids=str)
@pytest.mark.parametrize("opset", [11, 18])
def test_reduce_attribute_and_input_axes_match_reference(op, shape, axes, keepdims, opset):
    x = rand(np.random.default_rng(7), shape)
    attrs: dict = {"keepdims": keepdims}
    inputs = [x]
    if axes is not None:
        if opset < 13 or (op == "ReduceMean" and opset < 18):
            attrs["axes"] = axes
        else:
            inputs.append(np.array(axes, np.int64))
    assert_matches_reference(op, inputs, attrs, opset, tol={"rtol": 1e-5, "atol": 1e-5})


def test_reduce_noop_with_empty_axes_and_integer_sum():
    x = rand(np.random.default_rng(8), (3, 4))
    assert_matches_reference("ReduceSum", [x], {"noop_with_empty_axes": 1}, 13)
    ints = np.arange(-6, 6, dtype=np.int64).reshape(3, 4)
    assert_matches_reference("ReduceSum", [ints, np.array([1], np.int64)], {"keepdims": 0}, 13)
