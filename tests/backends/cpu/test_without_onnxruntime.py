"""The native backend needs no ONNX Runtime: a process where `import onnxruntime` fails still
loads xinrt, lists cpu and reference, and runs a light model, an int8 QDQ convolution, an LSTM
and a Loop wholly on cpu, matching the reference evaluator."""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = r"""
import numpy as np, xinrt
from onnx import TensorProto, helper, numpy_helper
from xinrt.testing import model_input_feeds, randomized_light_model
assert "ort" not in xinrt.available_backends(), xinrt.available_backends()
assert "onnxruntime" in xinrt.backend_info()["ort"]["reason"]
rng = np.random.default_rng(0)

def check(model, feeds, atol, rtol=1e-3, want=None):
    options = xinrt.SessionOptions(strict=True)
    session = xinrt.InferenceSession(model, options, backends=["cpu"])
    assert {n["backend"] for n in session.placement.to_dict()["nodes"]} == {"cpu"}
    got = session.run(None, feeds)
    want = want or xinrt.InferenceSession(model, backends=["reference"]).run(None, feeds)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)

def model_of(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])

light = randomized_light_model("squeezenet", seed=0)
check(light, model_input_feeds(light, seed=1), atol=1e-4)

# int8: Q -> DQ -> Conv(DQ(int8 weights), DQ(int32 bias)) -> Q -> DQ, fused into QLinearConv.
w = rng.integers(-127, 128, (8, 4, 3, 3)).astype(np.int8)
b = rng.integers(-500, 500, 8).astype(np.int32)
f32 = lambda v: np.array(v, np.float32)
inits = [numpy_helper.from_array(a, n) for a, n in [
    (w, "w"), (b, "b"), (f32(0.05), "xs"), (np.array(128, np.uint8), "xz"), (f32(0.01), "ws"),
    (f32(0.05 * 0.01), "bs"), (f32(0.2), "ys"), (np.array(120, np.uint8), "yz")]]
nodes = [
    helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
    helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xf"]),
    helper.make_node("DequantizeLinear", ["w", "ws"], ["wf"]),
    helper.make_node("DequantizeLinear", ["b", "bs"], ["bf"]),
    helper.make_node("Conv", ["xf", "wf", "bf"], ["yf"], pads=[1, 1, 1, 1]),
    helper.make_node("QuantizeLinear", ["yf", "ys", "yz"], ["yq"]),
    helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 9, 9])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 9, 9])
qdq = model_of(nodes, [x], [y], inits, opset=21)
check(qdq, {"x": rng.standard_normal((1, 4, 9, 9)).astype(np.float32) * 2}, atol=0.2 + 1e-6)

# LSTM, bidirectional, with initial states.
H, I = 8, 5
lstm_inits = [numpy_helper.from_array((rng.standard_normal(s) * 0.3).astype(np.float32), n)
              for n, s in [("W", (2, 4 * H, I)), ("R", (2, 4 * H, H)), ("B", (2, 8 * H))]]
lstm = model_of(
    [helper.make_node("LSTM", ["x", "W", "R", "B"], ["Y", "Yh"], hidden_size=H,
                      direction="bidirectional")],
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [7, 2, I])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [7, 2, 2, H]),
     helper.make_tensor_value_info("Yh", TensorProto.FLOAT, [2, 2, H])], lstm_inits)
check(lstm, {"x": rng.standard_normal((7, 2, I)).astype(np.float32)}, atol=1e-5)

# Loop: 4 iterations of s = tanh(s @ W), scanning every s out.
body = helper.make_graph(
    [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
     helper.make_node("MatMul", ["s_in", "W2"], ["m"]),
     helper.make_node("Tanh", ["m"], ["s_out"]),
     helper.make_node("Identity", ["s_out"], ["scan"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [1, 6])],
    [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [1, 6]),
     helper.make_tensor_value_info("scan", TensorProto.FLOAT, [1, 6])])
loop_inits = [numpy_helper.from_array(np.array(4, np.int64), "M"),
              numpy_helper.from_array(np.array(True), "cond"),
              numpy_helper.from_array(rng.standard_normal((6, 6)).astype(np.float32), "W2")]
loop = model_of(
    [helper.make_node("Loop", ["M", "cond", "s0"], ["s", "all"], body=body)],
    [helper.make_tensor_value_info("s0", TensorProto.FLOAT, [1, 6])],
    [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 6]),
     helper.make_tensor_value_info("all", TensorProto.FLOAT, [4, 1, 6])], loop_inits)
# The expected values come from numpy: an answer independent of both backends' Loop kernels.
s0 = rng.standard_normal((1, 6)).astype(np.float32)
states = [s0]
for _ in range(4):
    states.append(np.tanh(states[-1] @ numpy_helper.to_array(loop_inits[2])))
check(loop, {"s0": s0}, atol=1e-5, want=[states[-1], np.stack(states[1:])])
print("ok", xinrt.available_backends())
"""


def test_native_backend_runs_with_onnxruntime_absent(tmp_path):
    blocker = tmp_path / "onnxruntime"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('onnxruntime hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "XINRT_CACHE_DIR": str(tmp_path / "c")}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok") and "cpu" in result.stdout
