"""Winograd F(2x2, 3x3) Conv (kernels/conv_winograd.cc): fp32 3x3 stride-1 convolutions with
constant weights and >= 32 input and output channels take it, match onnx.reference within the
GEMM tolerance on every SIMD path (tiles over the edges, any pads, batches, fused
bias/residual/Relu), and the convolutions it must not compute (strides, dilations, groups, few
channels, a QDQ model's float Conv) keep their paths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.native_helpers import (
    GEMM_TOL,
    conv_model,
    dequantized_weight_conv_model,
    plan_for,
)

_native = pytest.importorskip("xinrt._native")


def reference(model: Any, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """onnx.reference's first output."""
    return np.asarray(ReferenceEvaluator(model).run(None, feeds)[0])  # type: ignore[index]


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    """The GEMM tolerance of the native kernel tests."""
    np.testing.assert_allclose(got, want, rtol=GEMM_TOL["rtol"], atol=GEMM_TOL["atol"])


def run_case(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    attrs: dict[str, Any],
    *,
    bias: bool = True,
    residual: bool = False,
    relu: bool = False,
    seed: int = 0,
) -> int:
    """Runs the model natively against onnx.reference (GEMM tolerance, seeded data of unit
    scale); returns how many Conv runs took the Winograd path."""
    rng = np.random.default_rng(seed)
    fan_in = int(np.prod(w_shape[1:]))
    x = rng.uniform(-1, 1, x_shape).astype(np.float32)
    w = (rng.uniform(-1, 1, w_shape) / np.sqrt(fan_in)).astype(np.float32)
    b = rng.uniform(-1, 1, w_shape[0]).astype(np.float32) if bias else None
    model = conv_model(w, b, x_shape, attrs, residual, relu)
    feeds = {"x": x}
    if residual:
        out_shape = reference(conv_model(w, b, x_shape, attrs), feeds).shape
        feeds["r"] = rng.uniform(-1, 1, out_shape).astype(np.float32)
    want = reference(model, feeds)
    plan = plan_for(model)
    if residual or relu:  # the epilogue runs inside the Conv, not as separate steps
        assert [s for s in plan.steps if "Conv" not in s and "Identity" not in s] == [], plan.steps
    before = _native.conv_winograd_runs()
    got = plan.run([feeds[i.name] for i in model.graph.input])[0]
    runs = _native.conv_winograd_runs() - before
    assert got.shape == want.shape
    assert_close(got, want)
    return runs


WINOGRAD_CASES = [
    # (x shape, w shape, attrs): odd sizes leave half tiles at the right and bottom edges.
    ((1, 32, 8, 8), (32, 32, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 33, 9, 11), (35, 33, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((2, 40, 13, 7), (33, 40, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 32, 7, 7), (64, 32, 3, 3), {}),
    ((1, 37, 10, 9), (34, 37, 3, 3), {"pads": [2, 2, 2, 2]}),
    ((1, 32, 7, 12), (36, 32, 3, 3), {"pads": [0, 2, 1, 0]}),
    ((2, 34, 5, 6), (32, 34, 3, 3), {"pads": [2, 0, 0, 1]}),
    ((1, 32, 1, 1), (32, 32, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 36, 3, 3), (33, 36, 3, 3), {}),
    ((1, 32, 12, 11), (32, 32, 3, 3), {"auto_pad": "SAME_UPPER"}),
    ((1, 32, 12, 11), (32, 32, 3, 3), {"auto_pad": "SAME_LOWER", "strides": [1, 1]}),
    # Channels past one 128-deep K block; many tiles (several blocks, both threads busy).
    ((1, 150, 6, 5), (40, 150, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((2, 32, 45, 38), (40, 32, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 64, 14, 14), (257, 64, 3, 3), {"pads": [1, 1, 1, 1], "dilations": [1, 1]}),
]


@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.usefixtures("cpu_path")
def test_winograd_conv_matches_reference(case, bias):
    x_shape, w_shape, attrs = case
    assert run_case(x_shape, w_shape, attrs, bias=bias) == 1


@pytest.mark.parametrize(
    "case",
    [
        ((1, 32, 9, 7), (40, 32, 3, 3), {"pads": [1, 1, 1, 1]}),
        ((2, 33, 6, 11), (32, 33, 3, 3), {"pads": [0, 1, 2, 1]}),
    ],
    ids=lambda c: f"{c[0]}-{c[1]}",
)
@pytest.mark.parametrize("residual,relu", [(False, True), (True, False), (True, True)])
@pytest.mark.usefixtures("cpu_path")
def test_winograd_conv_fuses_residual_add_and_relu(case, residual, relu):
    x_shape, w_shape, attrs = case
    assert run_case(x_shape, w_shape, attrs, residual=residual, relu=relu, seed=3) == 1


@pytest.mark.parametrize(
    "case",
    [
        ((1, 32, 9, 9), (32, 32, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ((1, 32, 9, 9), (32, 32, 3, 3), {"dilations": [2, 2], "pads": [2, 2, 2, 2]}),
        ((1, 64, 9, 9), (64, 32, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
        ((1, 16, 9, 9), (64, 16, 3, 3), {"pads": [1, 1, 1, 1]}),
        ((1, 64, 9, 9), (16, 64, 3, 3), {"pads": [1, 1, 1, 1]}),
        ((1, 32, 9, 9), (32, 32, 5, 5), {"pads": [2, 2, 2, 2]}),
        ((1, 32, 9, 9), (32, 32, 3, 1), {"pads": [1, 0, 1, 0]}),
    ],
    ids=["stride2", "dilation2", "group2", "C16", "M16", "5x5", "3x1"],
)
def test_other_convolutions_keep_their_paths(case):
    x_shape, w_shape, attrs = case
    assert run_case(x_shape, w_shape, attrs, residual=True, relu=True) == 0


def test_runtime_weights_keep_the_gemm_path():
    """Winograd needs the weights transformed at plan time: weights fed at run time don't."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (1, 32, 8, 8)).astype(np.float32)
    w = (rng.uniform(-1, 1, (32, 32, 3, 3)) / 17).astype(np.float32)
    node = ("Conv", "", 17, [0, 1], [2], {"pads": [1, 1, 1, 1]}, "conv")
    plan = _native.Plan([node], 3, [0, 1], [2], {}, 2)
    before = _native.conv_winograd_runs()
    got = plan.run([x, w])[0]
    assert _native.conv_winograd_runs() == before
    want = reference(conv_model(w, None, x.shape, {"pads": [1, 1, 1, 1]}), {"x": x})
    assert_close(got, want)


def test_a_qdq_models_float_conv_keeps_the_gemm_path():
    """A Conv on dequantized constant weights is the float Conv ORT leaves unfused in a QDQ
    model: it must round as ORT's SGEMM (test_qdq_fusion.py), so it does not take Winograd."""
    rng = np.random.default_rng(7)
    w = rng.integers(-127, 128, (32, 32, 3, 3)).astype(np.int8)
    model = dequantized_weight_conv_model(w, (1, 32, 10, 10))
    x = rng.standard_normal((1, 32, 10, 10)).astype(np.float32)
    before = _native.conv_winograd_runs()
    got = plan_for(model).run([x])[0]
    assert _native.conv_winograd_runs() == before
    wf = w.astype(np.float32) * np.float32(0.013)
    plain = conv_model(wf, None, x.shape, {"pads": [1, 1, 1, 1]})
    assert_close(got, reference(plain, {"x": x}))
