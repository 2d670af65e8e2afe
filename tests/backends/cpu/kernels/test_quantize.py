"""Native QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear (kernels/quantize.cc) match
ONNX Runtime on every SIMD path (ties to even, saturation, per-axis scales)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.int8_helpers import (  # noqa: F401, F811
    assert_same_as_ort,
    feeds_of,
    one_node_model,
    random_q8,
    run_native,
)

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")


def ties_and_saturation(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Values whose x / 0.5 lands on .5 ties, far past both ends of the range, and random."""
    x = rng.integers(-600, 600, size=shape).astype(np.float32) * 0.25
    x.flat[:4] = [0.25, 0.75, -0.25, -1.25]  # / 0.5 -> 0.5, 1.5, -0.5, -2.5 (ties)
    x.flat[4:6] = [1e6, -1e6]  # saturate
    return x


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("opset", [10, 13, 19, 21, 25])
def test_quantize_linear_per_tensor_rounds_ties_to_even_and_saturates(
    int8_path: str, dtype: type, opset: int
) -> None:
    rng = np.random.default_rng(1)
    x = ties_and_saturation(rng, (3, 37))
    zero: np.ndarray = np.array(3 if dtype == np.uint8 else -5, dtype=dtype)
    inputs = [x, np.array(0.5, np.float32), zero]
    got = assert_same_as_ort("QuantizeLinear", inputs, opset=opset)
    model = one_node_model("QuantizeLinear", inputs, opset=opset)
    want = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(got[0], want[0])
    assert got[0].min() == np.iinfo(dtype).min and got[0].max() == np.iinfo(dtype).max


@pytest.mark.parametrize("op_type", ["QuantizeLinear", "DequantizeLinear"])
def test_opset_28_keeps_the_uint8_int8_semantics(int8_path: str, op_type: str) -> None:
    """Opset 28 only adds float6 types; onnx.reference (version 25 code) is the authority."""
    rng = np.random.default_rng(11)
    x = (
        ties_and_saturation(rng, (4, 9))
        if op_type == "QuantizeLinear"
        else random_q8(rng, np.int8, (4, 9))
    )
    inputs = [x, np.array(0.5, np.float32), np.array(-3, np.int8)]
    model = one_node_model(op_type, inputs, opset=28)
    want = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(run_native(op_type, inputs, opset=28)[0], want[0])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_quantize_linear_per_axis(int8_path: str, dtype: type, axis: int) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5, 33)).astype(np.float32) * 3
    c = x.shape[axis]
    scale = np.asarray(rng.uniform(0.01, 0.05, c), dtype=np.float32)
    zero = random_q8(rng, dtype, (c,))
    assert_same_as_ort("QuantizeLinear", [x, scale, zero], {"axis": axis}, opset=13)


def test_quantize_linear_output_dtype_without_zero_point(int8_path: str) -> None:
    x = ties_and_saturation(np.random.default_rng(3), (70,))
    got = assert_same_as_ort(
        "QuantizeLinear", [x, np.array(0.5, np.float32), None], {"output_dtype": 3}, opset=21
    )
    assert got[0].dtype == np.int8


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("per_axis", [False, True])
def test_dequantize_linear(int8_path: str, dtype: type, per_axis: bool) -> None:
    rng = np.random.default_rng(4)
    x = random_q8(rng, dtype, (3, 6, 17))
    shape = (6,) if per_axis else ()
    scale = np.asarray(rng.uniform(0.01, 1.0, shape), dtype=np.float32)
    zero = random_q8(rng, dtype, shape)
    inputs = [x, scale, zero]
    attrs = {"axis": 1} if per_axis else {}
    got = assert_same_as_ort("DequantizeLinear", inputs, attrs, opset=13)
    model = one_node_model("DequantizeLinear", inputs, attrs, opset=19)
    want = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(got[0], want[0])


@pytest.mark.parametrize("zero_shape", [None, (), (1,)])
def test_dequantize_linear_int32_bias(int8_path: str, zero_shape: tuple[int, ...] | None) -> None:
    """quantize_static writes biases as int32 DequantizeLinear, often with [1]-shaped scales."""
    rng = np.random.default_rng(14)
    x = rng.integers(-(2**20), 2**20, size=(64,)).astype(np.int32)
    scale = np.asarray(rng.uniform(1e-5, 1e-3, zero_shape or ()), dtype=np.float32)
    zero = None if zero_shape is None else np.zeros(zero_shape, np.int32)
    got = assert_same_as_ort("DequantizeLinear", [x, scale, zero], opset=13)
    np.testing.assert_allclose(got[0], x.astype(np.float64) * float(scale.ravel()[0]), rtol=1e-6)


@pytest.mark.parametrize(
    "kind", ["normal", "positive", "negative", "zeros", "ties", "large", "big"]
)
def test_dynamic_quantize_linear(int8_path: str, kind: str) -> None:
    rng = np.random.default_rng(5)
    x: np.ndarray = rng.standard_normal((5, 67)).astype(np.float32)
    if kind == "positive":
        x = np.abs(x) + 0.5
    elif kind == "negative":
        x = -np.abs(x) - 0.5
    elif kind == "zeros":
        x = np.zeros_like(x)
    elif kind == "ties":  # range [-127.5, 127.5] -> scale 1, zero point 127.5 -> 128 (even)
        x = rng.integers(-255, 256, size=x.shape).astype(np.float32) / 2
        x.flat[:2] = [-127.5, 127.5]
    elif kind == "big":  # enough values to scan and quantize in parallel chunks
        x = rng.standard_normal((300, 301)).astype(np.float32)
        x.flat[-1] = -7.5  # the minimum sits in the last chunk
    elif kind == "large":
        x *= 1e4
    got = assert_same_as_ort("DynamicQuantizeLinear", [x], opset=11, num_outputs=3)
    if kind != "zeros":  # onnx.reference picks scale 1/255 for an all-zero input; ORT picks 1
        want = ReferenceEvaluator(
            one_node_model("DynamicQuantizeLinear", [x], opset=11, num_outputs=3)
        ).run(None, {"x0": x})
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
