"""Per-run overhead: a one-node Add([1,16]) back to back, xinrt backends against raw ORT.

    .venv/bin/python bench/overhead.py

Warm, single thread, interleaved in blocks of 1,000 runs; the figure is the median per-run time
of 15 blocks. (bench/suite.py idles 50 ms before each run, which measures a cold start instead.)
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import onnxruntime as ort

import xinrt
from xinrt.bench.models import one_node_model


def _block(run: object, feeds: dict[str, np.ndarray], count: int = 1000) -> float:
    start = time.perf_counter()
    for _ in range(count):
        run(None, feeds)  # type: ignore[operator]
    return (time.perf_counter() - start) / count


def main() -> None:
    model = one_node_model().SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    raw = ort.InferenceSession(model, options)
    feeds = {
        i.name: np.ones([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
        for i in raw.get_inputs()
    }
    one = xinrt.SessionOptions(intra_op_num_threads=1)
    runners = {"ORT": raw.run}
    for backend in ("cpu", "ort"):
        runners[f"xinrt {backend}"] = xinrt.InferenceSession(model, one, backends=[backend]).run
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(15):
        for name, run in runners.items():
            times[name].append(_block(run, feeds))
    base = statistics.median(times["ORT"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<10} {median * 1e6:7.2f} µs per run ({(median - base) * 1e6:+.2f} µs vs ORT)")


if __name__ == "__main__":
    main()
