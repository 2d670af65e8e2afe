"""How each runtime's idle-spinning worker threads slow the other's next run (issue 15, item 4:
the pool's behaviour on a shared machine).

    .venv/bin/python bench/spin_neighbour.py --models squeezenet,resnet50 --threads 2 --rounds 15

Per round and model, one timed run of each case; the figure is each case's median. "after
idle" sleeps 50 ms first (every worker asleep); "right after X" runs X once, then times the
run at once, while X's workers still spin (ORT spins by default, `session.intra_op.allow_spinning`;
xinrt's workers spin 500 us after each parallel region, then sleep).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

import onnxruntime as ort

import xinrt
from xinrt.testing import model_input_feeds, randomized_light_model

IDLE_S = 0.05


def _ort(model: bytes, threads: int, spinning: bool) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _timed(run: Callable[[], object], before: Callable[[], object] | None) -> float:
    time.sleep(IDLE_S)
    if before is not None:
        before()
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="squeezenet,resnet50")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=15)
    a = p.parse_args()
    for name in a.models.split(","):
        model = randomized_light_model(name)
        feeds = model_input_feeds(model, 1)
        raw = model.SerializeToString()
        spinning, quiet = _ort(raw, a.threads, True), _ort(raw, a.threads, False)
        options = xinrt.SessionOptions(intra_op_num_threads=a.threads)
        native = xinrt.InferenceSession(model, options, backends=["cpu"])

        x = functools.partial(native.run, None, feeds)
        o = functools.partial(spinning.run, None, feeds)
        q = functools.partial(quiet.run, None, feeds)
        cases: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
            "xinrt cpu after idle": (x, None),
            "xinrt cpu right after ORT": (x, o),
            "xinrt cpu right after ORT (spinning off)": (x, q),
            "ORT after idle": (o, None),
            "ORT right after xinrt cpu": (o, x),
            "ORT (spinning off) after idle": (q, None),
        }
        for run, before in cases.values():  # warm-up
            _timed(run, before)
        times: dict[str, list[float]] = {case: [] for case in cases}
        for _ in range(a.rounds):
            for case, (run, before) in cases.items():
                times[case].append(_timed(run, before))
        print(f"{name}, {a.threads} threads, median of {a.rounds} rounds:")
        for case, values in times.items():
            print(f"  {case:42s} {statistics.median(values):8.2f} ms")


if __name__ == "__main__":
    main()
