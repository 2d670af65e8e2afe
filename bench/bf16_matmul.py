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
import sys
from pathlib import Path

import numpy as np
from onnx import ModelProto, TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bf16_resnet import bf16_sessions, relative_error  # noqa: E402
from interleave import rotating_times  # noqa: E402

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
            sessions = bf16_sessions(model, threads)
            feeds = {"x": np.random.default_rng(1).standard_normal((rows, k)).astype(np.float32)}
            want = sessions["ort fp32"].run(None, feeds)[0]
            error = relative_error(sessions["cpu bf16"].run(None, feeds)[0], want)
            gap_s = a.gap_ms / 1e3
            rotating_times(sessions, feeds, 3, gap_s)  # warm-up rounds
            ratios: dict[str, list[float]] = {"cpu bf16": [], "cpu fp32": []}
            for seconds in rotating_times(sessions, feeds, a.runs, gap_s):
                for name in ratios:
                    ratios[name].append(seconds[name] / seconds["ort fp32"])
            print(
                f"threads={threads} {rows}x{k}x{n}: cpu bf16 / ort fp32 "
                f"{statistics.median(ratios['cpu bf16']):.2f}, cpu fp32 / ort fp32 "
                f"{statistics.median(ratios['cpu fp32']):.2f}, bf16 rel. error {error:.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
