"""Native shape ops (kernels/shape_ops.cc: Reshape, Transpose, Dropout, ConstantOfShape ...) move
every dtype like onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import assert_matches_reference, rand, run_native  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


ALL_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


def typed(rng, shape, dtype):
    return (rng.standard_normal(shape) * 10).astype(dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_shape_ops_move_every_dtype_like_reference(dtype):
    rng = np.random.default_rng(22)
    x = typed(rng, (2, 3, 4, 5), dtype)
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    exact = {"rtol": 0, "atol": 0}
    assert_matches_reference("Identity", [x], opset=13, tol=exact)
    assert_matches_reference("Reshape", [x, i64([0, -1, 5])], opset=13, tol=exact)
    assert_matches_reference(
        "Reshape", [x, i64([6, 20])], opset=14, tol=exact, constant_inputs=(1,)
    )
    assert_matches_reference("Flatten", [x], {"axis": 2}, opset=13, tol=exact)
    assert_matches_reference("Flatten", [x], {"axis": -1}, opset=13, tol=exact)
    assert_matches_reference("Flatten", [x], {"axis": 0}, opset=13, tol=exact)
    assert_matches_reference("Transpose", [x], {"perm": [0, 2, 1, 3]}, opset=13, tol=exact)
    assert_matches_reference("Transpose", [x], {"perm": [3, 1, 0, 2]}, opset=13, tol=exact)
    assert_matches_reference("Transpose", [x], opset=13, tol=exact)
    assert_matches_reference(
        "Concat", [x, typed(rng, (2, 1, 4, 5), dtype), x], {"axis": 1}, opset=13, tol=exact
    )
    assert_matches_reference("Concat", [x, x], {"axis": -1}, opset=13, tol=exact)
    y = typed(rng, (2, 1, 4, 1), dtype)
    assert_matches_reference("Squeeze", [y], {"axes": [1, -1]}, opset=11, tol=exact)
    assert_matches_reference("Squeeze", [y], opset=11, tol=exact)
    assert_matches_reference("Squeeze", [y, i64([3])], opset=13, tol=exact)
    assert_matches_reference("Squeeze", [y], opset=13, tol=exact)
    assert_matches_reference("Unsqueeze", [x], {"axes": [0, 5]}, opset=11, tol=exact)
    assert_matches_reference(
        "Unsqueeze", [x, i64([-1, 1])], opset=13, tol=exact, constant_inputs=(1,)
    )


def test_reshape_allowzero_and_errors():
    x = np.zeros((0, 3), np.float32)
    assert_matches_reference("Reshape", [x, np.array([3, 0], np.int64)], {"allowzero": 1}, opset=14)
    with pytest.raises(ValueError, match="reshape_node.*Reshape"):
        run_native("Reshape", [np.ones((2, 3), np.float32), np.array([4, -1], np.int64)])


def test_transpose_shufflenet_channel_shuffle():
    x = rand(np.random.default_rng(23), (1, 4, 6, 7, 7))
    assert_matches_reference("Transpose", [x], {"perm": [0, 2, 1, 3, 4]}, opset=9)


@pytest.mark.parametrize("opset", [7, 10, 13])
def test_dropout_is_identity_with_true_mask(opset):
    x = rand(np.random.default_rng(24), (3, 7))
    assert_matches_reference("Dropout", [x], {"ratio": 0.3} if opset < 12 else {}, opset=opset)
    assert_matches_reference("Dropout", [x], {}, opset=opset, num_outputs=2)


def test_dropout_declines_training_mode():
    shapes = [None, None, None]
    reason = _native.check_node("Dropout", "", 13, ["float32", "float32", "bool"], shapes, {}, 1)
    assert "training_mode" in reason
    x = rand(np.random.default_rng(25), (3, 7))
    assert_matches_reference(
        "Dropout", [x, np.array(0.5, np.float32), np.array(False)], opset=13, constant_inputs=(1, 2)
    )


@pytest.mark.parametrize(
    "value", [None, np.array([1.5], np.float32), np.array([7], np.int64), np.array([True])], ids=str
)
def test_constant_of_shape_matches_reference(value):
    attrs = {} if value is None else {"value": value}
    shape = np.array([2, 3, 1], np.int64)
    exact = {"rtol": 0, "atol": 0}
    assert_matches_reference("ConstantOfShape", [shape], attrs, opset=9, tol=exact)
    assert_matches_reference(
        "ConstantOfShape", [shape], attrs, opset=9, tol=exact, constant_inputs=(0,)
    )
