"""csrc/kernels/softmax_variants.cc: LogSoftmax and Hardmax (opset 11 2-D coercion and opset 13
single axis) on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op

pytest.importorskip("xinrt._native")


@pytest.mark.parametrize("op", ["LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_variants(op, opset, axis):
    rng = np.random.default_rng(111)
    x = rng.integers(-4, 4, size=(3, 4, 5)).astype(np.float32)  # ties for Hardmax
    x = x + (rng.uniform(size=x.shape).astype(np.float32) * 0.1 if op == "LogSoftmax" else 0)
    # ONNX Runtime for opset 11: onnx.reference applies opset 13's single-axis rule to every opset.
    oracle = "ort" if opset < 13 else "reference"
    check_op(op, [x], {"axis": axis}, opset=opset, tol={"rtol": 1e-5, "atol": 1e-5}, oracle=oracle)


def test_log_softmax_is_stable_for_large_inputs():
    # ONNX Runtime: onnx.reference takes log(softmax) and gives -inf where the answer is -1000.
    x = np.array([[1000.0, 0.0, -1000.0], [-50.0, -50.0, -50.0]], np.float32)
    check_op("LogSoftmax", [x], opset=13, oracle="ort")
