"""csrc/kernels/unary.cc: rounding, Sign/Abs/Neg, Log, trigonometry, IsNaN/IsInf and the
activations, on cpu alone (strict), against onnx.reference or ONNX Runtime."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

SHAPES = [(7,), (3, 5, 4), (0, 3)]

# op -> (opset, low, high, attrs)
FLOAT_OPS: dict[str, tuple[int, float, float, dict]] = {
    "Floor": (13, -5, 5, {}),
    "Ceil": (13, -5, 5, {}),
    "Log": (13, 0.01, 9, {}),
    "Sin": (7, -7, 7, {}),
    "Cos": (7, -7, 7, {}),
    "Tan": (7, -1.5, 1.5, {}),
    "Asin": (7, -0.99, 0.99, {}),
    "Acos": (7, -0.99, 0.99, {}),
    "Atan": (7, -9, 9, {}),
    "Sinh": (9, -5, 5, {}),
    "Cosh": (9, -5, 5, {}),
    "Asinh": (9, -9, 9, {}),
    "Acosh": (9, 1.01, 9, {}),
    "Atanh": (9, -0.99, 0.99, {}),
    "Softplus": (1, -8, 8, {}),
    "Softsign": (1, -8, 8, {}),
    "Mish": (18, -8, 8, {}),
    "Celu": (12, -4, 4, {"alpha": 0.7}),
    "Elu": (6, -4, 4, {"alpha": 0.3}),
    "Selu": (6, -4, 4, {}),
    "ThresholdedRelu": (10, -3, 3, {"alpha": 0.4}),
    "Shrink": (9, -3, 3, {"lambd": 0.8, "bias": 0.25}),
    "Gelu": (20, -5, 5, {}),
    "Swish": (24, -8, 8, {"alpha": 0.8}),
}


@pytest.mark.parametrize("op", sorted(FLOAT_OPS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_float_unary_matches_reference(op, shape):
    opset, low, high, attrs = FLOAT_OPS[op]
    rng = np.random.default_rng(11)
    x = rng.uniform(low, high, size=shape).astype(np.float32)
    check_op(op, [x], attrs, opset=opset, tol={"rtol": 2e-5, "atol": 1e-6})


@pytest.mark.parametrize("op", ["Floor", "Sin", "Softplus", "Elu", "Sign", "Abs", "Neg"])
def test_float64_unary_matches_reference(op):
    rng = np.random.default_rng(12)
    x = rng.uniform(-4, 4, size=(4, 9)).astype(np.float64)
    check_op(op, [x], opset=13, tol={"rtol": 1e-12, "atol": 1e-14})


def test_gelu_tanh_approximation_matches_reference():
    x = np.random.default_rng(13).uniform(-6, 6, size=(5, 33)).astype(np.float32)
    check_op("Gelu", [x], {"approximate": "tanh"}, opset=20, tol={"rtol": 2e-5, "atol": 1e-6})


def test_round_is_half_to_even_including_negatives():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.7, 2.2, 0.49999997], np.float32)
    rng = np.random.default_rng(14)
    x = np.concatenate([x, rng.uniform(-100, 100, 50).astype(np.float32)])
    (y,) = check_op("Round", [x], opset=11)
    np.testing.assert_array_equal(y[:6], [-2, -2, -0, 0, 2, 2])


def test_floor_ceil_keep_nan_and_inf():
    x = np.array([np.nan, np.inf, -np.inf, -0.5, 0.5, -3.0], np.float32)
    for op in ("Floor", "Ceil", "Round"):
        check_op(op, [x], opset=13)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.int8])
@pytest.mark.parametrize("op", ["Sign", "Abs", "Neg"])
def test_sign_abs_neg_all_signed_dtypes(op, dtype):
    rng = np.random.default_rng(15)
    x = rng.integers(-100, 100, size=(6, 7)).astype(dtype)
    x.flat[:3] = 0
    if dtype == np.float32:
        x = x * np.float32(0.37)
    check_op(op, [x], opset=13)


def test_sign_keeps_nan():
    x = np.array([np.nan, -0.0, 0.0, -np.inf, 3.0], np.float32)
    check_op("Sign", [x], opset=13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_isnan_isinf_on_special_values(dtype):
    rng = np.random.default_rng(16)
    x = rng.uniform(-3, 3, size=(4, 6)).astype(dtype)
    x.flat[[0, 5, 9, 13, 20]] = [np.nan, np.inf, -np.inf, np.nan, -np.inf]
    check_op("IsNaN", [x], opset=13)
    for pos in (0, 1):
        for neg in (0, 1):
            check_op("IsInf", [x], {"detect_positive": pos, "detect_negative": neg}, opset=10)


def test_softplus_is_stable_for_large_inputs_like_onnxruntime():
    x = np.array([-200.0, -90.0, -20.0, 0.0, 20.0, 90.0, 200.0], np.float32)
    check_op("Softplus", [x], opset=1, oracle="ort")


def test_declines_with_reason():
    x = np.ones((2, 3), np.float32)
    assert "approximate" in cpu_reason("Gelu", [x], {"approximate": "erf"}, opset=20)
    assert "float16" in cpu_reason("Floor", [x.astype(np.float16)], opset=13)
    assert "alpha 0" in cpu_reason("Celu", [x], {"alpha": 0.0}, opset=12)
