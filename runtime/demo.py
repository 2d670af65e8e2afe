"""`xinrt demo`: the onnx wheel's light ResNet-50 through every backend usable here."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

import numpy as np

from .backend import get_backend
from .errors import PlacementError
from .options import SessionOptions
from .session import DEFAULT_BACKENDS, InferenceSession, available_backends
from .testing import model_input_feeds, randomized_light_model


def _median_ms(session: Any, feeds: dict[str, np.ndarray], runs: int) -> tuple[float, list[Any]]:
    outputs = session.run(None, feeds)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), outputs


def _simulated(name: str) -> bool:
    devices = get_backend(name).devices()
    return bool(devices) and all(d.kind == "simulator" for d in devices)


def run_demo(threads: int = 0, runs: int = 5, simulators: bool = False) -> int:
    """Print placement and latency per backend, and each backend's distance from ONNX Runtime.

    NPU simulators take seconds to minutes per compile and inference: only with `simulators`."""
    model = randomized_light_model("resnet50", seed=0)
    feeds = model_input_feeds(model, seed=1)
    data = model.SerializeToString()
    print("light ResNet-50 from the onnx wheel, weights replaced by seeded random He-scaled ones")
    print("(the shipped weights are all 0.02: their output is uniform whatever the input)\n")

    expected = None
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        raw = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        ms, outputs = _median_ms(raw, feeds, runs)
        expected = outputs[0]
        print(f"raw onnxruntime {ort.__version__} (CPU EP): {ms:8.2f} ms median of {runs}\n")
    except ImportError:
        print("onnxruntime is not installed: no raw ORT baseline\n")

    usable = available_backends()
    skipped = [b for b in usable if not simulators and _simulated(b)]
    usable = [b for b in usable if b not in skipped]
    if skipped:
        print(f"skipped NPU simulators {', '.join(skipped)} (slow): add --simulators\n")
    chains = [[b] for b in usable] + [[b for b in DEFAULT_BACKENDS if b in usable]]
    for chain in chains:
        label = ",".join(chain)
        options = SessionOptions(intra_op_num_threads=threads, strict=len(chain) == 1)
        try:
            session = InferenceSession(data, options, backends=chain)
        except PlacementError as exc:
            ops = Counter(line.split("(")[1].split(")")[0] for line in str(exc).splitlines()[1:])
            print(
                f"[{label}] cannot run the whole model alone; declines "
                + ", ".join(f"{op} x{n}" for op, n in ops.most_common())
                + "\n"
            )
            continue
        n = runs if chain != ["reference"] and not _simulated(chain[0]) else 1
        ms, outputs = _median_ms(session, feeds, n)
        diff = (
            f", max |diff| vs ORT {float(np.max(np.abs(outputs[0] - expected))):.2e}"
            if expected is not None
            else ""
        )
        print(f"[{label}] {ms:8.2f} ms median of {n}{diff}")
        print(session.placement, "\n")
    return 0
