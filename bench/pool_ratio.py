"""One-node pools: xinrt `cpu` against ONNX Runtime, 1 thread, interleaved A B A B.

    .venv/bin/python bench/pool_ratio.py --runs 200

Each shape is a one-node model (ResNet-50's, SqueezeNet's and Inception-v2's pools); the
figure is the ratio of the two fastest runs (min of each side), which a burst of load on a
shared machine moves least. Outputs are checked equal first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

import xinrt

S1 = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
SHAPES = [
    (
        "MaxPool",
        (1, 64, 112, 112),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 1, 1]},
    ),
    ("MaxPool", (1, 96, 111, 111), {"kernel_shape": [3, 3], "strides": [2, 2]}),
    ("MaxPool", (1, 256, 27, 27), {"kernel_shape": [3, 3], "strides": [2, 2]}),
    ("AveragePool", (1, 256, 28, 28), S1),
    ("AveragePool", (1, 576, 14, 14), S1),
    ("MaxPool", (1, 1024, 7, 7), S1),
]


def one_node(op: str, shape: tuple[int, ...], attrs: dict) -> bytes:
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "pool",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=200)
    a = p.parse_args()
    for op, shape, attrs in SHAPES:
        model = one_node(op, shape, attrs)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        theirs = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        ours = xinrt.InferenceSession(
            model, xinrt.SessionOptions(intra_op_num_threads=1), backends=["cpu"]
        )
        np.testing.assert_allclose(
            ours.run(None, {"x": x})[0], theirs.run(None, {"x": x})[0], rtol=1e-6, atol=1e-6
        )
        best = [float("inf"), float("inf")]
        for _ in range(a.runs):
            for i, sess in enumerate((ours, theirs)):
                start = time.perf_counter()
                sess.run(None, {"x": x})
                best[i] = min(best[i], time.perf_counter() - start)
        print(
            f"{op} {shape} {attrs['kernel_shape']}/{attrs.get('strides', [1])[0]}: xinrt "
            f"{best[0] * 1e6:.0f} us, ORT {best[1] * 1e6:.0f} us, ratio {best[0] / best[1]:.2f}"
        )


if __name__ == "__main__":
    main()
