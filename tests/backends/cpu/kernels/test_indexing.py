"""Native Gather, Shape, Slice, Split and Expand (kernels/indexing.cc) match onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import assert_matches_reference, rand  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


SLICE_CASES = [
    ([1], [5], None, None),
    ([0, -3], [2, 100], [0, 2], None),
    ([-1], [-1000], [1], [-1]),
    ([10], [0], [2], [-2]),
    ([0, 1], [7, 7], [-1, 1], [3, 2]),
    ([2], [2], None, None),
]


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_gather_any_axis_negative_indices_matches_reference(axis, index_dtype):
    rng = np.random.default_rng(9)
    x = rand(rng, (5, 7, 3))
    dim = x.shape[axis]
    idx = np.array([[0, -1], [dim - 1, -dim]], index_dtype)
    assert_matches_reference("Gather", [x, idx], {"axis": axis})
    assert_matches_reference(
        "Gather", [np.arange(7, dtype=np.int64), np.array(-2, index_dtype)], {}
    )


@pytest.mark.parametrize("attrs", [{}, {"start": 1}, {"end": -1}, {"start": -3, "end": 10}])
def test_shape_start_end_matches_reference(attrs):
    assert_matches_reference("Shape", [np.zeros((2, 3, 4, 5), np.float32)], attrs, opset=15)


@pytest.mark.parametrize("starts,ends,axes,steps", SLICE_CASES, ids=str)
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_slice_inputs_negative_and_clamped_match_reference(starts, ends, axes, steps, index_dtype):
    x = rand(np.random.default_rng(10), (7, 3, 33))
    inputs = [x, np.array(starts, index_dtype), np.array(ends, index_dtype)]
    inputs.append(None if axes is None else np.array(axes, index_dtype))
    if steps is not None:
        inputs.append(np.array(steps, index_dtype))
    assert_matches_reference("Slice", inputs)


def test_slice_attribute_form_matches_reference():
    x = rand(np.random.default_rng(11), (7, 3, 33))
    assert_matches_reference(
        "Slice", [x], {"starts": [1, -5], "ends": [100, -1], "axes": [0, 2]}, 9
    )


@pytest.mark.parametrize(
    "opset,attrs,split,outputs",
    [
        (11, {"axis": 1, "split": [1, 2, 4]}, None, 3),
        (11, {"axis": 0}, None, 3),
        (13, {"axis": -1}, [10, 23], 2),
        (18, {"axis": 2, "num_outputs": 4}, None, 4),
        (18, {"axis": 1}, [7], 1),
    ],
    ids=str,
)
def test_split_forms_match_reference(opset, attrs, split, outputs):
    x = rand(np.random.default_rng(12), (3, 7, 33))
    inputs = [x] + ([np.array(split, np.int64)] if split is not None else [])
    assert_matches_reference("Split", inputs, attrs, opset, num_outputs=outputs)


@pytest.mark.parametrize(
    "x_shape,shape",
    [((3, 1), (2, 1, 6)), ((1,), (7,)), ((2, 3), (1, 1)), ((4, 1, 5), (4, 3, 1))],
    ids=str,
)
def test_expand_matches_reference(x_shape, shape):
    x = rand(np.random.default_rng(13), x_shape)
    assert_matches_reference("Expand", [x, np.array(shape, np.int64)])
