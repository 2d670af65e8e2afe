"""bf16 MatMul with a constant weight on the native cpu backend vs ONNX Runtime fp32, interleaved:
BERT-base-sized products (128 rows) and one row (a token at a time).

    .venv/bin/python bench/bf16_matmul.py --threads 1 2 --runs 41

Each round runs ORT fp32, xinrt cpu bf16 and xinrt cpu fp32 in a rotating order, each timed run
after `--gap-ms` idle and one unrecorded run of the same session (ORT's threads spin for tens of
ms after a run and would take the second core from whatever runs next; bench/RESULTS.md's
protocol); the figures are medians of the per-round ratios to ORT, and the bf16 error is
||bf16 - fp32|| / ||fp32|| against ORT's result.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import ModelProto, TensorProto, helper, numpy_helper

import xinrt

SHAPES = [(128, 768, 768), (128, 768, 3072), (128, 3072, 768), (1, 768, 768)]


def matmul_model(k: int, n: int, rows: int, seed: int = 0) -> ModelProto:
    """x[rows, k] @ w[k, n] with seeded random weights."""
    w = np.random.default_rng(seed).standard_normal((k, n)).astype(np.float32) / np.float32(k**0.5)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, n])],
        [numpy_helper.from_array(w, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--runs", type=int, default=41)
    p.add_argument("--gap-ms", type=float, default=50.0)
    a = p.parse_args()
    for threads in a.threads:
        for rows, k, n in SHAPES:
            model = matmul_model(k, n, rows)
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            sessions = {
                "ort": ort.InferenceSession(
                    model.SerializeToString(), so, providers=["CPUExecutionProvider"]
                ),
                "bf16": xinrt.InferenceSession(
                    model,
                    xinrt.SessionOptions(intra_op_num_threads=threads, precision="bf16"),
                    backends=["cpu"],
                ),
                "fp32": xinrt.InferenceSession(
                    model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
                ),
            }
            feeds = {"x": np.random.default_rng(1).standard_normal((rows, k)).astype(np.float32)}
            want = sessions["ort"].run(None, feeds)[0].astype(np.float64)
            got = sessions["bf16"].run(None, feeds)[0]
            error = float(np.linalg.norm(got - want) / np.linalg.norm(want))
            names = list(sessions)
            ratios: dict[str, list[float]] = {"bf16": [], "fp32": []}
            for i in range(a.runs + 3):
                seconds = {}
                for name in names[i % 3 :] + names[: i % 3]:
                    time.sleep(a.gap_ms / 1e3)
                    sessions[name].run(None, feeds)
                    start = time.perf_counter()
                    sessions[name].run(None, feeds)
                    seconds[name] = time.perf_counter() - start
                if i >= 3:  # warm-up rounds
                    for name in ratios:
                        ratios[name].append(seconds[name] / seconds["ort"])
            print(
                f"threads={threads} {rows}x{k}x{n}: cpu bf16 / ort fp32 "
                f"{statistics.median(ratios['bf16']):.2f}, cpu fp32 / ort fp32 "
                f"{statistics.median(ratios['fp32']):.2f}, bf16 rel. error {error:.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
