"""csrc/kernels/cast.cc: CastLike (Cast to the dtype of a second input) on cpu alone (strict),
against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import run_native  # noqa: F401, F811
from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


@pytest.mark.parametrize("target", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("source", [np.float32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_castlike(source, target):
    x = np.random.default_rng(121).uniform(-100, 100, size=(3, 7)).astype(source)
    like = np.zeros((2,), target)
    check_op("CastLike", [x, like], opset=15)


def test_castlike_declines_float64_to_float16():
    x = np.ones((3,), np.float64)
    assert "float16" in cpu_reason("CastLike", [x, np.ones((1,), np.float16)], opset=15)

_native = pytest.importorskip("xinrt._native")


CAST_SOURCES = {
    "float32": np.array(
        [0.0, -0.0, 1.5, -2.7, 65504.0, 70000.0, 1e-5, 6e-8, 3e-8, np.inf, -np.inf, 2.5e9],
        np.float32,
    ),
    "float64": np.array([0.1, -3.9, 1e10, 1e-50], np.float64),
    "float16": np.array([0.0, 1.0, -2.5, 6e-8, 65504.0, np.inf], np.float16),
    "int64": np.array([0, -1, 7, 2**40, -(2**33)], np.int64),
    "int32": np.array([0, -1, 300, -129], np.int32),
    "int8": np.array([0, -1, 127, -128], np.int8),
    "uint8": np.array([0, 1, 255], np.uint8),
    "bool": np.array([True, False], np.bool_),
}


CAST_TARGETS = {
    "float32": 1,
    "uint8": 2,
    "int8": 3,
    "int32": 6,
    "int64": 7,
    "bool": 9,
    "float16": 10,
    "float64": 11,
}


@pytest.mark.parametrize("source", list(CAST_SOURCES))
@pytest.mark.parametrize("target", list(CAST_TARGETS))
def test_cast_pairs_match_numpy(source, target):
    x = CAST_SOURCES[source]
    if source == "float64" and target == "float16":
        assert "not supported" in _native.check_node(
            "Cast", "", 19, ["float64"], [None], {"to": 10}, 1
        )
        return
    if source in ("float32", "float64", "float16") and target not in (
        "float32",
        "float64",
        "float16",
        "bool",
    ):
        x = x[
            np.isfinite(x) & (np.abs(x.astype(np.float64)) < 120)
        ]  # in range for every integer type
    (y,) = run_native("Cast", [x], {"to": CAST_TARGETS[target]}, opset=19)
    expected = x.astype(np.dtype(target))
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y, expected)


def test_float32_to_float16_rounds_to_nearest_even_everywhere():
    bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    (y,) = run_native("Cast", [x], {"to": 10}, opset=19)
    expected = x.astype(np.float16)
    same = (y.view(np.uint16) == expected.view(np.uint16)) | (np.isnan(y) & np.isnan(expected))
    assert same.all()
