"""xinrt cpu / ORT latency ratios for the light models, interleaved A B A B in one process.

    .venv/bin/python bench/conv_ratio.py --models resnet50 --threads 2 --runs 9

Each round times one ORT run and one xinrt run (order alternating); the figure is the median
of per-round ratios after warm-up, plus each side's median latency in ms. `--gap 0.05` sleeps
before every run so the other runtime's spinning workers are idle (fairer at 2+ threads).
"""

from __future__ import annotations

import argparse

import numpy as np
import onnxruntime as ort
from interleave import interleaved_ratio

import xinrt
from xinrt.testing import LIGHT_MODELS, model_input_feeds, randomized_light_model


def measure(
    name: str, threads: int, runs: int, warmup: int, gap_s: float = 0.0
) -> tuple[float, float, float]:
    """(median ratio, median xinrt ms, median ORT ms) for one model."""
    model = randomized_light_model(name)
    feeds = model_input_feeds(model, 1)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    o = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    x = xinrt.InferenceSession(
        model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
    )
    ro = o.run(None, feeds)
    rx = x.run(None, feeds)
    for a, b in zip(ro, rx):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4)
    for _ in range(warmup):
        o.run(None, feeds)
        x.run(None, feeds)
    return interleaved_ratio(x, o, feeds, runs, gap_s)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--models", default=",".join(LIGHT_MODELS))
    p.add_argument("--threads", default="2")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--gap", type=float, default=0.0, help="seconds idle before each run")
    a = p.parse_args()
    for n in [int(t) for t in a.threads.split(",")]:
        ratios = []
        for m in a.models.split(","):
            r, tx, to = measure(m, n, a.runs, a.warmup, a.gap)
            ratios.append(r)
            print(
                f"threads={n} {m:14s} ratio {r:5.2f}  xinrt {tx:7.2f} ms  ort {to:7.2f} ms",
                flush=True,
            )
        if len(ratios) > 1:
            print(
                f"threads={n} geomean ratio {float(np.exp(np.mean(np.log(ratios)))):.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
