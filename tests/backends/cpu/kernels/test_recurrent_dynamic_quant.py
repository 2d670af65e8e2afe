"""csrc/kernels/recurrent_dynamic_quant.cc: com.microsoft DynamicQuantizeLSTM, as
onnxruntime.quantization.quantize_dynamic makes it from an LSTM, on cpu alone (strict) against
ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt

pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")
quantization = pytest.importorskip("onnxruntime.quantization")


def _quantized_lstm(folder: Path, direction: str, hidden: int, batch: int, states: bool) -> Path:
    """x [7, batch, 12] -> LSTM -> (y, y_h, y_c), float weights, then quantize_dynamic."""
    rng = np.random.default_rng(171)
    dirs = 2 if direction == "bidirectional" else 1
    inputs = 12
    w = rng.uniform(-0.4, 0.4, (dirs, 4 * hidden, inputs)).astype(np.float32)
    r = rng.uniform(-0.4, 0.4, (dirs, 4 * hidden, hidden)).astype(np.float32)
    b = rng.uniform(-0.2, 0.2, (dirs, 8 * hidden)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in [(w, "W"), (r, "R"), (b, "B")]]
    names = ["x", "W", "R", "B", "", "h0" if states else "", "c0" if states else ""]
    node = helper.make_node(
        "LSTM", names, ["y", "y_h", "y_c"], hidden_size=hidden, direction=direction
    )
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [7, batch, inputs])]
    if states:
        graph_inputs += [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, [dirs, batch, hidden])
            for n in ("h0", "c0")
        ]
    outputs = [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, [7, dirs, batch, hidden]),
        helper.make_tensor_value_info("y_h", TensorProto.FLOAT, [dirs, batch, hidden]),
        helper.make_tensor_value_info("y_c", TensorProto.FLOAT, [dirs, batch, hidden]),
    ]
    graph = helper.make_graph([node], "lstm", graph_inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    src, dst = folder / "lstm.onnx", folder / "lstm_int8.onnx"
    onnx.save(model, str(src))
    quantization.quantize_dynamic(str(src), str(dst), weight_type=quantization.QuantType.QInt8)
    ops = [n.op_type for n in onnx.load(str(dst)).graph.node]
    assert "DynamicQuantizeLSTM" in ops, ops
    return dst


@pytest.mark.parametrize(
    "direction,hidden,batch,states",
    [("forward", 16, 1, False), ("bidirectional", 32, 3, True), ("reverse", 64, 2, True)],
)
def test_dynamic_quantize_lstm_matches_onnxruntime(tmp_path, direction, hidden, batch, states):
    path = _quantized_lstm(tmp_path, direction, hidden, batch, states)
    rng = np.random.default_rng(172)
    dirs = 2 if direction == "bidirectional" else 1
    feeds = {"x": rng.uniform(-2, 2, (7, batch, 12)).astype(np.float32)}
    if states:
        for n in ("h0", "c0"):
            feeds[n] = rng.uniform(-0.5, 0.5, (dirs, batch, hidden)).astype(np.float32)
    # ONNX Runtime quantizes H_prev per chunk of batch rows, one chunk per thread; with one
    # thread the chunk is the whole batch, as here.
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    want = sess.run(None, feeds)
    for threads in (1, 2):
        options = xinrt.SessionOptions(strict=True, intra_op_num_threads=threads)
        got = xinrt.InferenceSession(str(path), options, backends=["cpu"]).run(None, feeds)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=2e-5)
