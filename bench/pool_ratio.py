"""One-node MaxPool: xinrt `cpu` against ONNX Runtime, 1 thread, interleaved A B A B.

    .venv/bin/python bench/pool_ratio.py --runs 200

Each shape is a one-node model (ResNet-50's and SqueezeNet's max pools); the figure is the ratio
of the two fastest runs (min of each side), which a burst of load on a shared machine moves
least. Outputs are checked equal first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

import xinrt

SHAPES = [
    ((1, 64, 112, 112), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 1, 1]}),
    ((1, 96, 111, 111), {"kernel_shape": [3, 3], "strides": [2, 2]}),
    ((1, 256, 27, 27), {"kernel_shape": [3, 3], "strides": [2, 2]}),
]


def one_node(shape: tuple[int, ...], attrs: dict) -> bytes:
    node = helper.make_node("MaxPool", ["x"], ["y"], **attrs)
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
    for shape, attrs in SHAPES:
        model = one_node(shape, attrs)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        theirs = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        ours = xinrt.InferenceSession(
            model, xinrt.SessionOptions(intra_op_num_threads=1), backends=["cpu"]
        )
        np.testing.assert_array_equal(ours.run(None, {"x": x})[0], theirs.run(None, {"x": x})[0])
        best = [float("inf"), float("inf")]
        for _ in range(a.runs):
            for i, sess in enumerate((ours, theirs)):
                start = time.perf_counter()
                sess.run(None, {"x": x})
                best[i] = min(best[i], time.perf_counter() - start)
        print(
            f"MaxPool {shape} {attrs['kernel_shape']}/{attrs['strides'][0]}: xinrt "
            f"{best[0] * 1e6:.0f} us, ORT {best[1] * 1e6:.0f} us, ratio {best[0] / best[1]:.2f}"
        )


if __name__ == "__main__":
    main()
