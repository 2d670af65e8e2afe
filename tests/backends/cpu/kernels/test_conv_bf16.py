"""Conv at SessionOptions.precision "bf16" (kernels/sbgemm.cc, x86/sbgemm_avx512bf16.cc): the
bf16 GEMM with fp32 sums matches fp32 arithmetic on bf16-rounded inputs, stays within bf16's error
of the fp32 result, and where the CPU lacks AVX512_BF16 the session computes fp32 and says so."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

import xinrt
from tests.backends.cpu.native_helpers import conv_model
from xinrt.backends.cpu import backend as cpu_backend

_native = pytest.importorskip("xinrt._native")

HAVE_BF16 = bool(_native.build_info().get("bf16"))
needs_bf16 = pytest.mark.skipif(
    not HAVE_BF16, reason="this CPU (or XINRT_CPU_SIMD) lacks AVX512_BF16: precision bf16 is fp32"
)


def bf16_round(a: np.ndarray) -> np.ndarray:
    """float32 rounded to the nearest bf16 (ties to even), as vcvtne2ps2bf16 rounds normals."""
    bits = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


def session(model: Any, precision: str) -> xinrt.InferenceSession:
    options = xinrt.SessionOptions(
        precision=precision, intra_op_num_threads=2, placement="priority"
    )
    return xinrt.InferenceSession(model, options, backends=["cpu"])


# (x shape, w shape, attributes): ragged K (odd, not a multiple of the 256 block) and N (not a
# multiple of 32 columns), M not a multiple of 12 rows; each GEMM path of conv.cc: 1x1 direct,
# stride-1 shifted rows (padding), strided im2col, grouped, grouped 1x1 (whole groups per thread).
CASES = [
    ((1, 3, 17, 19), (40, 3, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 64, 14, 14), (130, 64, 1, 1), {}),
    ((2, 33, 15, 13), (45, 33, 3, 3), {"strides": [2, 2], "pads": [1, 0, 1, 2]}),
    ((1, 7, 9, 9), (13, 7, 5, 5), {"pads": [2, 2, 2, 2]}),
    ((1, 67, 7, 7), (25, 67, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 3, 33, 33), (7, 3, 7, 7), {"strides": [2, 2], "pads": [3, 3, 3, 3]}),
    ((1, 8, 11, 13), (6, 4, 3, 3), {"group": 2, "pads": [1, 0, 2, 1]}),
    ((2, 12, 5, 13), (20, 3, 1, 1), {"group": 4}),
    ((1, 300, 1, 1), (5, 300, 1, 1), {}),
    ((1, 3, 12, 12), (4, 3, 3, 3), {"dilations": [2, 2], "pads": [2, 2, 2, 2]}),
    ((2, 3, 33), (5, 3, 3), {"pads": [1, 1]}),
    ((2, 3, 33), (5, 3, 3), {"pads": [1, 1], "strides": [2]}),
]


@needs_bf16
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
@pytest.mark.parametrize("residual", [False, True], ids=["plain", "add_relu"])
def test_bf16_conv_is_fp32_arithmetic_on_bf16_rounded_inputs(case, residual):
    x_shape, w_shape, attrs = case
    rng = np.random.default_rng(7)
    fan_in = int(np.prod(w_shape[1:]))
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) / np.sqrt(fan_in)).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    model = conv_model(w, b, x_shape, attrs, residual, relu=residual)
    y_shape = ReferenceEvaluator(model).run(None, {"x": x, "r": np.zeros(1, np.float32)})[0].shape
    feeds = {"x": x}
    if residual:
        feeds["r"] = rng.standard_normal(y_shape).astype(np.float32)
    s = session(model, "bf16")
    got = s.run(None, feeds)[0]
    (partition,) = s.placement.partitions
    assert partition.details == {"precision": "bf16", "bf16_steps": 1}

    # Same model on bf16-rounded x and w in fp32: only the order of the fp32 sums differs.
    rounded = conv_model(bf16_round(w), b, x_shape, attrs, residual, relu=residual)
    want16 = ReferenceEvaluator(rounded).run(None, {**feeds, "x": bf16_round(x)})[0]
    np.testing.assert_allclose(got, want16, rtol=1e-4, atol=1e-4)

    # Against fp32 proper: bf16's error (8 significant bits), and visibly not fp32.
    want = ReferenceEvaluator(model).run(None, feeds)[0]
    rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    assert 1e-5 < rel < 1e-2, rel


@needs_bf16
def test_conv_with_weights_from_an_input_stays_fp32_at_bf16():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "conv",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, list(w.shape)),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    s = session(model, "bf16")
    assert s.placement.partitions[0].details["bf16_steps"] == 0
    want = ReferenceEvaluator(model).run(None, {"x": x, "w": w})[0]
    np.testing.assert_allclose(s.run(None, {"x": x, "w": w})[0], want, rtol=1e-4, atol=1e-4)


def test_without_avx512_bf16_the_session_computes_fp32_and_reports_it(monkeypatch, caplog):
    monkeypatch.setenv("XINRT_CPU_BASELINE", "1")  # any CPU: the portable path has no bf16
    assert not _native.build_info()["bf16"]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 6, 10, 10)).astype(np.float32)
    w = rng.standard_normal((9, 6, 3, 3)).astype(np.float32)
    model = conv_model(w, None, x.shape, {"pads": [1, 1, 1, 1]})
    monkeypatch.setattr(cpu_backend, "_WARNED", set())  # warned once per process
    with caplog.at_level(logging.WARNING, logger="xinrt.backends.cpu.backend"):
        s = session(model, "bf16")
    details = s.placement.partitions[0].details
    assert details["precision"] == "fp32" and "lacks AVX512_BF16" in details["precision_note"]
    assert any("lacks AVX512_BF16" in r.getMessage() for r in caplog.records)
    want = ReferenceEvaluator(model).run(None, {"x": x})[0]
    np.testing.assert_allclose(s.run(None, {"x": x})[0], want, rtol=1e-4, atol=1e-5)


def test_a_plan_refuses_bf16_without_the_instructions_and_unknown_precisions(monkeypatch):
    node = ("Relu", "", 17, [0], [1], {}, "relu")
    with pytest.raises(ValueError, match="precision must be fp32 or bf16"):
        _native.Plan([node], 2, [0], [1], {}, 1, precision="fp8")
    monkeypatch.setenv("XINRT_CPU_BASELINE", "1")
    with pytest.raises(ValueError, match="needs a CPU with AVX512_BF16"):
        _native.Plan([node], 2, [0], [1], {}, 1, precision="bf16")


def test_precision_option_accepts_bf16_and_rejects_unknown_names():
    xinrt.SessionOptions(precision="bf16").validate()
    xinrt.SessionOptions(precision={"cpu": "bf16", "ort": "fp32"}).validate()
    with pytest.raises(xinrt.InvalidArgumentError, match="fp32, fp16, bf16 or int8"):
        xinrt.SessionOptions(precision="bfloat16").validate()
