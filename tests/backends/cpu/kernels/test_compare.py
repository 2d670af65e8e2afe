"""Native comparisons, Not and Where (kernels/compare.cc) match onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import assert_matches_reference, rand  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


@pytest.mark.parametrize(
    "shapes", [((3, 1), (1, 7), (3, 7)), ((1,), (33,), ()), ((2, 1, 4), (3, 1), (1, 1, 4))], ids=str
)
def test_where_three_way_broadcast_matches_reference(shapes):
    rng = np.random.default_rng(14)
    cond = rng.uniform(size=shapes[0]) > 0.5
    assert_matches_reference("Where", [cond, rand(rng, shapes[1]), rand(rng, shapes[2])])
    ints = [
        cond,
        np.arange(np.prod(shapes[1]), dtype=np.int64).reshape(shapes[1]),
        np.zeros(shapes[2], np.int64),
    ]
    assert_matches_reference("Where", ints)


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32])
def test_comparisons_broadcast_match_reference(op, dtype):
    rng = np.random.default_rng(15)
    a = rng.integers(-3, 3, size=(3, 1, 33)).astype(dtype)
    b = rng.integers(-3, 3, size=(7, 1)).astype(dtype)
    assert_matches_reference(op, [a, b])


def test_equal_on_bool_and_not_match_reference():
    rng = np.random.default_rng(16)
    a, b = rng.uniform(size=(3, 7)) > 0.5, rng.uniform(size=(7,)) > 0.5
    assert_matches_reference("Equal", [a, b])
    assert_matches_reference("Not", [a])
