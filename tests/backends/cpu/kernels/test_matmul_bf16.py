"""MatMul at SessionOptions.precision "bf16" (kernels/matmul.cc -> kernels/sbgemm.cc): a constant
2-D weight runs as the bf16 GEMM with fp32 sums, with and without the fused bias Add; a weight
from an input stays fp32."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt
from tests.backends.cpu.kernels.test_conv_bf16 import bf16_round, needs_bf16, session

pytest.importorskip("xinrt._native")


def matmul_model(w: np.ndarray, b: np.ndarray | None, x_shape: tuple[int, ...]) -> object:
    """x @ w (+ b: the plan fuses the Add into the MatMul)."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m" if b is not None else "y"])]
    inits = [numpy_helper.from_array(w, "w")]
    if b is not None:
        nodes.append(helper.make_node("Add", ["m", "b"], ["y"]))
        inits.append(numpy_helper.from_array(b, "b"))
    graph = helper.make_graph(
        nodes,
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


# (x shape, K, N): one row, ragged K (odd, over one 256 block) and N (not a multiple of 32),
# rows not a multiple of 12, batch dims stacked into rows, a 1-D x.
CASES = [
    ((1, 7), 7, 5),
    ((13, 33), 33, 70),
    ((2, 40, 513), 513, 33),
    ((3, 64, 96), 96, 130),
    ((300,), 300, 17),
]


@needs_bf16
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[2]}")
@pytest.mark.parametrize("bias", [False, True], ids=["plain", "bias"])
def test_bf16_matmul_is_fp32_arithmetic_on_bf16_rounded_inputs(case, bias):
    x_shape, k, n = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32) if bias else None
    s = session(matmul_model(w, b, x_shape), "bf16")
    got = s.run(None, {"x": x})[0]
    (partition,) = s.placement.partitions
    assert partition.details == {"precision": "bf16", "bf16_steps": 1}
    plus = b.astype(np.float64) if b is not None else 0.0
    want16 = bf16_round(x).astype(np.float64) @ bf16_round(w).astype(np.float64) + plus
    np.testing.assert_allclose(got, want16, rtol=1e-4, atol=1e-4)
    want = x.astype(np.float64) @ w.astype(np.float64) + plus
    rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    assert 1e-5 < rel < 1e-2, rel


@needs_bf16
def test_matmul_of_two_inputs_stays_fp32_at_bf16():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((5, 9)).astype(np.float32)
    c = rng.standard_normal((9, 6)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "c"], ["y"])],
        "matmul",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [5, 9]),
            helper.make_tensor_value_info("c", TensorProto.FLOAT, [9, 6]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    s = session(model, "bf16")
    assert s.placement.partitions[0].details["bf16_steps"] == 0
    np.testing.assert_allclose(s.run(None, {"a": a, "c": c})[0], a @ c, rtol=1e-5, atol=1e-5)


def test_fp32_session_reports_nothing_about_precision():
    w = np.ones((4, 3), np.float32)
    s = xinrt.InferenceSession(matmul_model(w, None, (2, 4)), backends=["cpu"])
    assert s.placement.partitions[0].details == {}
