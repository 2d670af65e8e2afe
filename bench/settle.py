"""Why interleaved pairs idle between runs: xinrt's and ORT's ResNet-50 latency after an idle gap.

    .venv/bin/python bench/settle.py

ORT's intra-op threads keep spinning after a run; with no gap they take the second core from
whatever runs next, so 2-thread comparisons without a gap measure ORT's spinning, not xinrt.
"""

from __future__ import annotations

import statistics
import time

import onnxruntime as ort

import xinrt
from xinrt.testing import model_input_feeds, randomized_light_model


def main() -> None:
    model = randomized_light_model("resnet50")
    feeds = model_input_feeds(model, 1)
    data = model.SerializeToString()
    for threads in (1, 2):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        raw = ort.InferenceSession(data, options)
        ours = xinrt.InferenceSession(
            data, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
        )
        for gap in (0.0, 0.005, 0.02, 0.05):
            a, b = [], []
            for _ in range(11):
                time.sleep(gap)
                start = time.perf_counter()
                ours.run(None, feeds)
                a.append(time.perf_counter() - start)
                time.sleep(gap)
                start = time.perf_counter()
                raw.run(None, feeds)
                b.append(time.perf_counter() - start)
            ratio = statistics.median([p / q for p, q in zip(a, b)])
            ours_ms, raw_ms = statistics.median(a) * 1e3, statistics.median(b) * 1e3
            print(
                f"threads {threads} gap {gap * 1e3:4.0f} ms: xinrt {ours_ms:6.1f} ms, "
                f"ORT {raw_ms:6.1f} ms, ratio {ratio:.2f}"
            )


if __name__ == "__main__":
    main()
