"""csrc/kernels/cast.cc: CastLike (Cast to the dtype of a second input) on cpu alone (strict),
against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

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
