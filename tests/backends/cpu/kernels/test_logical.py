"""csrc/kernels/logical.cc: And/Or/Xor, BitShift and the Bitwise ops with broadcasting, on cpu
alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

PAIRS = [((7,), (7,)), ((3, 1, 5), (4, 1)), ((), (2, 3)), ((0, 3), (3,))]


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_boolean_logic_broadcasts(op, shapes):
    rng = np.random.default_rng(21)
    a = rng.random(shapes[0]) < 0.5
    b = rng.random(shapes[1]) < 0.5
    check_op(op, [np.asarray(a), np.asarray(b)], opset=7)


@pytest.mark.parametrize("op", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_bitwise_binary_all_integer_dtypes(op, dtype):
    rng = np.random.default_rng(22)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, size=(3, 5), dtype=dtype)
    b = rng.integers(info.min, info.max, size=(5,), dtype=dtype)
    check_op(op, [a, b], opset=18)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_bitwise_not(dtype):
    info = np.iinfo(dtype)
    x = np.random.default_rng(23).integers(info.min, info.max, size=(4, 6), dtype=dtype)
    check_op("BitwiseNot", [x], opset=18)


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bitshift_uint8_including_shifts_past_the_width(direction):
    rng = np.random.default_rng(24)
    x = rng.integers(0, 256, size=(3, 8), dtype=np.uint8)
    s = np.array([0, 1, 3, 7, 8, 9, 2, 5], np.uint8)
    (y,) = check_op("BitShift", [x, s], {"direction": direction}, opset=11)
    assert (y[:, 4:6] == 0).all()


def test_declines_with_reason():
    a = np.ones((2,), np.int64)
    assert "uint8" in cpu_reason("BitShift", [a, a], {"direction": "LEFT"}, opset=11)
    assert "int16" in cpu_reason("BitwiseAnd", [a.astype(np.int16)] * 2, opset=18)
