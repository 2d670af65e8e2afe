"""bf16 ResNet-50 on the native cpu backend (SessionOptions.precision="bf16") vs ONNX Runtime fp32:
latency ratios interleaved in one process, and the bf16 error on the logits vs fp32.

    .venv/bin/python bench/bf16_resnet.py --threads 2 --runs 21

The model is `xinrt.testing.randomized_light_model("resnet50")` (seeded random weights) with its
logits (the Softmax input) as an extra output. Each round times ORT fp32, xinrt cpu bf16 and xinrt
cpu fp32 in an order that rotates, each after `--gap-ms` idle and one unrecorded run (ORT's
spinning threads otherwise slow whatever runs next); the figures are medians of the per-round
ratios to ORT. The error is
||bf16 - fp32|| / ||fp32|| on the logits (fp32 = ORT's), over `--samples` seeded inputs (worst).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interleave import rotating_times  # noqa: E402

import xinrt  # noqa: E402
from xinrt.testing import model_input_feeds, randomized_light_model, with_logits_output  # noqa: E402


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """||got - want|| / ||want|| in float64."""
    want64 = np.asarray(want, dtype=np.float64)
    return float(
        np.linalg.norm(np.asarray(got, dtype=np.float64) - want64) / np.linalg.norm(want64)
    )


def bf16_sessions(model: onnx.ModelProto, threads: int) -> dict[str, Any]:
    """ORT fp32, xinrt cpu bf16 and xinrt cpu fp32 sessions of `model`, `threads` intra-op."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return {
        "ort fp32": ort.InferenceSession(
            model.SerializeToString(), so, providers=["CPUExecutionProvider"]
        ),
        "cpu bf16": xinrt.InferenceSession(
            model,
            xinrt.SessionOptions(intra_op_num_threads=threads, precision="bf16"),
            backends=["cpu"],
        ),
        "cpu fp32": xinrt.InferenceSession(
            model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[2])
    p.add_argument("--runs", type=int, default=21)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--gap-ms", type=float, default=50.0)
    p.add_argument("--samples", type=int, default=3, help="seeded inputs for the error figure")
    a = p.parse_args()
    model = with_logits_output(randomized_light_model("resnet50"))
    logits = [o.name for o in model.graph.output].index("logits")
    for threads in a.threads:
        sessions = bf16_sessions(model, threads)
        ort_fp32 = sessions["ort fp32"]
        report = sessions["cpu bf16"].placement.to_dict()
        errors = []
        for seed in range(a.samples):
            feeds = model_input_feeds(model, seed)
            want = ort_fp32.run(None, feeds)[logits]
            errors.append(
                (
                    relative_error(sessions["cpu bf16"].run(None, feeds)[logits], want),
                    relative_error(sessions["cpu fp32"].run(None, feeds)[logits], want),
                )
            )
        feeds = model_input_feeds(model, 0)
        for _ in range(a.warmup):
            for s in sessions.values():
                s.run(None, feeds)
        names = list(sessions)
        ms: dict[str, list[float]] = {n: [] for n in names}
        ratios: dict[str, list[float]] = {n: [] for n in names[1:]}
        for seconds in rotating_times(sessions, feeds, a.runs, a.gap_ms / 1e3):
            for n in names:
                ms[n].append(seconds[n] * 1e3)
            for n in names[1:]:
                ratios[n].append(seconds[n] / seconds["ort fp32"])
        partitions = [p.get("details", p) for p in report.get("partitions", [])]
        print(f"threads={threads} runs={a.runs} bf16 report: {partitions}")
        for n in names[1:]:
            r = ratios[n]
            print(
                f"threads={threads} {n} / ort fp32: median {statistics.median(r):.2f} "
                f"[{min(r):.2f}-{max(r):.2f}]  ({statistics.median(ms[n]):.1f} ms vs "
                f"{statistics.median(ms['ort fp32']):.1f} ms)"
            )
        print(
            f"threads={threads} logits rel. error vs ORT fp32 (worst of {a.samples} inputs): "
            f"cpu bf16 {max(e[0] for e in errors):.2e}, cpu fp32 {max(e[1] for e in errors):.2e}"
        )


if __name__ == "__main__":
    main()
