"""Native MatMulInteger, QLinearMatMul and the com.microsoft integer MatMuls (kernels/qmatmul.cc)
match ONNX Runtime and exact integer arithmetic on every SIMD path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.int8_helpers import (  # noqa: F401, F811
    FLOAT_TOL,
    assert_same_as_ort,
    feeds_of,
    one_node_model,
    random_q8,
    run_native,
    run_ort,
)

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")


SHAPES = [(1, 1, 1), (7, 33, 5), (33, 257, 65), (4, 7, 33), (9, 64, 40)]


# (A, B, Y) dtypes ONNX Runtime's CPU QLinearMatMul runs; others are checked against numpy only.
ORT_QLINEAR_TYPES = {
    (np.uint8, np.uint8, np.uint8),
    (np.uint8, np.int8, np.uint8),
    (np.int8, np.int8, np.int8),
}


def exact_matmul(
    a: np.ndarray, b: np.ndarray, a_zero: np.ndarray, b_zero: np.ndarray
) -> np.ndarray:
    return np.matmul(a.astype(np.int64) - a_zero.astype(np.int64), b.astype(np.int64) - b_zero)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a_type", [np.uint8, np.int8])
@pytest.mark.parametrize("b_type", [np.uint8, np.int8])
def test_matmul_integer_is_exact(
    int8_path: str, shape: tuple[int, int, int], a_type: type, b_type: type
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(m * 1000 + k)
    a = random_q8(rng, a_type, (m, k))
    b = random_q8(rng, b_type, (k, n))
    a_zero = random_q8(rng, a_type, ())
    b_zero = random_q8(rng, b_type, (n,))
    if m == 9:  # zero weight zero points: the VNNI path then reads uint8 A in place
        b_zero[:] = 0
    want = exact_matmul(a, b, a_zero, b_zero)
    for constants in [(), (1, 3)]:  # B fed per run, then packed at plan time
        got = run_native("MatMulInteger", [a, b, a_zero, b_zero], constant_inputs=constants)[0]
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, want)
    if a_type == np.uint8:  # ORT's CPU MatMulInteger takes uint8 A only
        assert_same_as_ort("MatMulInteger", [a, b, a_zero, b_zero], opset=10)
    inputs = [a, b, a_zero, b_zero]
    model = one_node_model("MatMulInteger", inputs, opset=10)
    reference = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(reference[0], want)


def test_matmul_integer_batched_a_and_b(int8_path: str) -> None:
    rng = np.random.default_rng(6)
    a = random_q8(rng, np.uint8, (2, 3, 7, 33))
    a_zero = np.array(131, np.uint8)
    b2 = random_q8(rng, np.int8, (33, 9))
    b_zero = np.array(-3, np.int8)
    for constants in [(), (1,)]:
        got = run_native("MatMulInteger", [a, b2, a_zero, b_zero], constant_inputs=constants)
        np.testing.assert_array_equal(got[0], exact_matmul(a, b2, a_zero, b_zero))
    b4 = random_q8(rng, np.int8, (3, 33, 9))  # batched, broadcast over A's first dim
    got = assert_same_as_ort("MatMulInteger", [a, b4, a_zero, b_zero], opset=10)
    np.testing.assert_array_equal(got[0], exact_matmul(a, b4, a_zero, b_zero))


def test_matmul_integer_1d_operands(int8_path: str) -> None:
    rng = np.random.default_rng(7)
    a, b = random_q8(rng, np.uint8, (19,)), random_q8(rng, np.int8, (19, 6))
    assert_same_as_ort("MatMulInteger", [a, b, None, None], opset=10)
    np.testing.assert_array_equal(
        run_native("MatMulInteger", [a, b[:, 0].copy(), None, None])[0],
        exact_matmul(a, b[:, 0], np.array(0), np.array(0)),
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "types",
    [
        (np.uint8, np.uint8, np.uint8),
        (np.uint8, np.int8, np.uint8),
        (np.int8, np.int8, np.int8),
        (np.int8, np.uint8, np.int8),
    ],
)
@pytest.mark.parametrize("per_column", [False, True])
def test_qlinear_matmul_requantizes_as_ort(
    int8_path: str, shape: tuple[int, int, int], types: tuple[type, type, type], per_column: bool
) -> None:
    m, k, n = shape
    a_type, b_type, y_type = types
    rng = np.random.default_rng(k * 7 + n)
    a, b = random_q8(rng, a_type, (m, k)), random_q8(rng, b_type, (k, n))
    col = (n,) if per_column else ()
    # y_scale small enough that many outputs saturate at both ends
    inputs = [
        a,
        np.array(0.02, np.float32),
        random_q8(rng, a_type, ()),
        b,
        rng.uniform(0.005, 0.02, col).astype(np.float32),
        random_q8(rng, b_type, col),
        np.array(0.01 * np.sqrt(k), np.float32),
        random_q8(rng, y_type, ()),
    ]
    # ORT's requantization: float32 multiplier a_scale * b_scale / y_scale, clamp, round to even
    acc = exact_matmul(a, b, inputs[2], inputs[5]).astype(np.float32)
    multiplier = inputs[1] * inputs[4] / inputs[6]
    info = np.iinfo(y_type)
    y_zero = int(inputs[7])
    scaled = np.clip(acc * multiplier, info.min - y_zero, info.max - y_zero)
    want = (np.rint(scaled).astype(np.int32) + y_zero).astype(y_type)
    if types in ORT_QLINEAR_TYPES:  # ORT's CPU EP has no kernel for other mixes
        ort_y = run_ort(one_node_model("QLinearMatMul", inputs, opset=10), feeds_of(inputs))[0]
        np.testing.assert_array_equal(ort_y, want)
    for constants in [(), (3, 5)]:
        got = run_native("QLinearMatMul", inputs, opset=10, constant_inputs=constants)[0]
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert m * n < 64 or info.min in want or info.max in want  # the saturation is exercised


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("b_type", [np.uint8, np.int8])
@pytest.mark.parametrize("per_column", [False, True])
def test_matmul_integer_to_float(
    int8_path: str, shape: tuple[int, int, int], b_type: type, per_column: bool
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(n * 3 + k)
    col = (n,) if per_column else ()
    inputs = [
        random_q8(rng, np.uint8, (2, m, k)),
        random_q8(rng, b_type, (k, n)),
        np.array(0.03, np.float32),
        rng.uniform(0.001, 0.01, col).astype(np.float32),
        random_q8(rng, np.uint8, ()),
        random_q8(rng, b_type, col),
        rng.standard_normal(n).astype(np.float32),
    ]
    for constants in [(), (1, 3, 5)]:
        assert_same_as_ort(
            "MatMulIntegerToFloat",
            inputs,
            domain="com.microsoft",
            constant_inputs=constants,
            tol=FLOAT_TOL,
        )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("b_type", [np.uint8, np.int8])
@pytest.mark.parametrize(("with_bias", "per_column"), [(False, False), (True, False), (True, True)])
def test_dynamic_quantize_matmul(
    int8_path: str, shape: tuple[int, int, int], b_type: type, with_bias: bool, per_column: bool
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    col = (n,) if per_column else ()
    inputs = [
        rng.standard_normal((3, m, k)).astype(np.float32),
        random_q8(rng, b_type, (k, n)),
        np.asarray(rng.uniform(0.002, 0.006, col), dtype=np.float32),
        random_q8(rng, b_type, col),
        rng.standard_normal(n).astype(np.float32) if with_bias else None,
    ]
    for constants in [(), (1, 2, 3, 4)]:
        assert_same_as_ort(
            "DynamicQuantizeMatMul",
            inputs,
            domain="com.microsoft",
            constant_inputs=constants,
            tol=FLOAT_TOL,
        )


@pytest.mark.parametrize(
    ("op_type", "dtypes", "shapes", "attrs", "expected"),
    [
        ("QuantizeLinear", ["float32", "float32", "int16"], [None, [], []], {}, "int16"),
        (
            "QuantizeLinear",
            ["float32", "float32", ""],
            [None, [], None],
            {"output_dtype": 4},
            "output_dtype",
        ),
        (
            "QuantizeLinear",
            ["float32", "float32", "uint8"],
            [[4, 8], [4, 2], [4, 2]],
            {"block_size": 4},
            "block",
        ),
        ("DequantizeLinear", ["float32", "float32"], [None, []], {}, "float32"),
        (
            "MatMulInteger",
            ["uint8", "int8", "uint8", "int8"],
            [[4, 8], [8, 3], [4], []],
            {},
            "per-row",
        ),
        ("MatMulInteger", ["float32", "int8"], [None, None], {}, "float32"),
    ],
)
def test_unsupported_variants_are_declined_with_a_reason(
    op_type: str, dtypes: list[str], shapes: list[Any], attrs: dict[str, Any], expected: str
) -> None:
    reason = _native.check_node(op_type, "", 21, dtypes, shapes, attrs, 1)
    assert expected in reason, reason


def test_mismatched_inner_dimensions_raise() -> None:
    rng = np.random.default_rng(8)
    a, b = random_q8(rng, np.uint8, (4, 5)), random_q8(rng, np.int8, (6, 3))
    with pytest.raises(ValueError, match="inner dimensions"):
        run_native("MatMulInteger", [a, b, None, None], opset=10)
