"""csrc/kernels/elementwise.cc and compare.cc on float64: Add/Sub/Mul/Div and the comparisons
with broadcasting, on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import assert_matches_reference, rand, run_native  # noqa: F401, F811
from tests.backends.cpu.strict_op import check_op

pytest.importorskip("xinrt._native")

PAIRS = [((7,), (7,)), ((3, 1, 5), (4, 1)), ((), (2, 3)), ((0, 3), (3,))]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_float64_arithmetic_broadcasts(op, shapes):
    rng = np.random.default_rng(151)
    a = rng.uniform(-3, 3, size=shapes[0])
    b = rng.uniform(0.5, 3, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])
    check_op(op, [a, b], opset=14, tol={"rtol": 1e-15, "atol": 0})


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def test_float64_comparisons(op):
    rng = np.random.default_rng(152)
    a = rng.integers(-3, 3, size=(4, 5)).astype(np.float64)
    b = rng.integers(-3, 3, size=(5,)).astype(np.float64)
    check_op(op, [a, b], opset=13)

_native = pytest.importorskip("xinrt._native")


BROADCAST_PAIRS = [
    ((7,), (7,)),
    ((1,), (257,)),
    ((3, 1, 5), (4, 1)),
    ((33, 1), (1, 7)),
    ((2, 3, 4, 5), (5,)),
    ((), (3,)),
    ((4, 3, 1), (1, 3, 7)),
    ((257, 33), (257, 33)),
    ((2, 1, 3, 1), (1, 7, 1, 33)),
]


UNARY_OPS = ["Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Sqrt", "Reciprocal", "Abs", "Identity"]


ODD_SHAPES = [(1,), (3,), (7,), (33,), (257,), (3, 7, 33)]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_float32_broadcasting_matches_reference(cpu_path, op, shapes):
    rng = np.random.default_rng(1)
    a = rand(rng, shapes[0])
    b = rand(rng, shapes[1], low=0.5) * rng.choice([-1, 1], size=shapes[1]).astype(np.float32)
    assert_matches_reference(op, [a, b])
    assert_matches_reference(op, [b, a] if op != "Div" else [a, b], constant_inputs=(1,))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_binary_integer_matches_reference(op, dtype):
    rng = np.random.default_rng(2)
    a = rng.integers(-50, 50, size=(3, 7)).astype(dtype)
    b = rng.integers(-9, 9, size=(7,)).astype(dtype)
    b[b == 0] = 3
    assert_matches_reference(op, [a, b], tol={"rtol": 0, "atol": 0})


def test_integer_div_truncates_toward_zero_and_by_zero_gives_zero():
    a = np.array([7, -7, 7, -7, 5, np.iinfo(np.int64).min], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 0, -1], dtype=np.int64)
    (y,) = run_native("Div", [a, b])
    np.testing.assert_array_equal(y[:4], [3, -3, -3, 3])
    assert y[4] == 0 and y[5] == np.iinfo(np.int64).min


@pytest.mark.parametrize("op", UNARY_OPS)
@pytest.mark.parametrize("shape", [(1,), (3, 7), (257, 33), (2, 3, 5, 7)], ids=str)
def test_unary_float32_matches_reference(cpu_path, op, shape):
    rng = np.random.default_rng(3)
    low = 0.1 if op in ("Sqrt", "Reciprocal") else -8.0
    x = rand(rng, shape, low=low, high=8.0)
    assert_matches_reference(op, [x], opset=13)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference overflows in exp
def test_sigmoid_is_stable_for_large_magnitudes():
    x = np.array([-200.0, -88.0, 0.0, 88.0, 200.0], dtype=np.float32)
    assert_matches_reference("Sigmoid", [x])


@pytest.mark.parametrize(
    "shapes", [((2, 3), (2, 3), (2, 3)), ((3, 1), (1, 4), (4,)), ((7,),)], ids=str
)
def test_sum_variadic_broadcasting_matches_reference(shapes):
    rng = np.random.default_rng(19)
    assert_matches_reference("Sum", [rand(rng, s) for s in shapes], opset=13)


@pytest.mark.parametrize(
    "op,attrs",
    [
        ("LeakyRelu", {}),
        ("LeakyRelu", {"alpha": 0.3}),
        ("Clip", {"min": -0.5}),
        ("Clip", {"min": -0.5, "max": 0.7}),
        ("Clip", {}),
    ],
)
def test_leaky_relu_and_clip_attribute_forms_match_reference(op, attrs):
    x = rand(np.random.default_rng(20), (3, 33))
    x[0, :3] = [np.inf, -np.inf, 0.0]
    assert_matches_reference(op, [x], attrs, opset=6)


@pytest.mark.parametrize("bounds", [(-0.5, 0.7), (-0.5, None), (None, 0.2), (None, None)])
def test_clip_input_form_matches_reference(bounds):
    x = rand(np.random.default_rng(21), (3, 33))
    inputs = [x] + [np.array(b, np.float32) if b is not None else None for b in bounds]
    while inputs[-1] is None:
        inputs.pop()
    assert_matches_reference("Clip", inputs, opset=13)
    assert_matches_reference("Clip", inputs, opset=13, constant_inputs=(1, 2))


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_erf_matches_reference_to_float32_rounding(shape):
    x = rand(np.random.default_rng(1), shape, low=-5, high=5)
    assert_matches_reference("Erf", [x], tol={"rtol": 2.5e-7, "atol": 1e-30})


@pytest.mark.usefixtures("cpu_path")
def test_erf_special_values_match_std_erf():
    x = np.array(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-40, 0.875, 3.9192, 4.0, -9.0], np.float32
    )
    (y,) = run_native("Erf", [x])
    expected = np.array(
        [math.erf(float(v)) if not math.isnan(v) else np.nan for v in x], np.float32
    )
    np.testing.assert_array_equal(np.signbit(y[:2]), [False, True])
    np.testing.assert_allclose(y, expected, rtol=2.5e-7, atol=0)


@pytest.mark.usefixtures("cpu_path")
def test_erf_dense_sweep_is_within_two_ulp_of_math_erf():
    x = np.linspace(-4.5, 4.5, 400_001, dtype=np.float32)
    (y,) = run_native("Erf", [x])
    exact = np.array([math.erf(float(v)) for v in x[::37]])
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(y[::37] - exact) / ulp) <= 2.0


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_pow_float_exponent_broadcasting_matches_reference(shapes):
    rng = np.random.default_rng(2)
    base = rand(rng, shapes[0], low=0.1, high=3)
    exponent = rand(rng, shapes[1], low=-2, high=3)
    assert_matches_reference("Pow", [base, exponent], tol={"rtol": 1e-6, "atol": 1e-6})


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_pow_integer_exponent_and_square_match_reference(dtype):
    rng = np.random.default_rng(3)
    x = rand(rng, (3, 33))
    assert_matches_reference("Pow", [x, np.array([2, 3, -1], dtype).reshape(3, 1)])
    assert_matches_reference("Pow", [x, np.array(2.0, np.float32)])


def test_pow_integer_base_is_declined():
    reason = _native.check_node("Pow", "", 15, ["int64", "int64"], [None, None], {}, 1)
    assert "float32" in reason


@pytest.mark.parametrize("op", ["HardSigmoid", "HardSwish"])
@pytest.mark.parametrize("shape", ODD_SHAPES, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_hard_activations_match_reference(op, shape):
    x = rand(np.random.default_rng(4), shape, low=-5, high=5)
    attrs = {"alpha": 0.3, "beta": 0.4} if op == "HardSigmoid" and shape == (7,) else {}
    assert_matches_reference(op, [x], attrs)


@pytest.mark.parametrize("slope_shape", [(1,), (33,), (3, 1, 1), (7, 33)], ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_prelu_broadcast_slope_matches_reference(slope_shape):
    rng = np.random.default_rng(5)
    assert_matches_reference("PRelu", [rand(rng, (2, 3, 7, 33)), rand(rng, slope_shape)])
