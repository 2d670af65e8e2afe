"""Soak one session: many threads x many runs, mixed with bad feeds; RSS and open fds before/after.

    python tools/soak.py                       # 16 threads x 10,000 runs (issue 16's figure)
    python tools/soak.py --threads 4 --runs 50

The model has three partitions, `example:v1` (the fake-SDK NPU in its worker process), `cpu`,
and `example:v1` again, so every run crosses the worker pipe twice. One run in eight is a bad
feed (wrong dtype, wrong shape, missing or unknown input, not an array) that must raise
InvalidInputError; every good run is checked against numpy. Prints the figures; exits 1 on any
wrong answer or unexpected exception. Not a timed test: run it by hand and record the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np
from onnx import ModelProto, TensorProto, helper, numpy_helper

import xinrt
from xinrt import backend as backend_module
from xinrt.worker import scratch

WEIGHTS = np.linspace(-1.0, 1.0, 32, dtype=np.float32).reshape(4, 8)
BAD_FEEDS: list[Callable[[np.ndarray], dict[str, Any]]] = [
    lambda x: {"x": x.astype(np.float64)},
    lambda x: {"x": x[:, :4]},
    lambda x: {},
    lambda x: {"x": x, "nope": x},
    lambda x: {"x": "not an array"},
]


def register_example_backend() -> None:
    """Make `example:v1` known (it has no entry point of its own in xinrt's pyproject)."""
    real = backend_module._entry_points()
    entry = metadata.EntryPoint("example", "xinrt.backends.example.backend:ExampleBackend", "x")
    backend_module._entry_points = lambda: {**real, "example": entry}  # type: ignore[attr-defined]
    backend_module.get_backend.cache_clear()


def soak_model() -> ModelProto:
    """x[4,8] -> Relu (example) -> Exp (cpu: the fake SDK lacks it) -> Add w (example)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Exp", ["r"], ["e"], name="exp"),
        helper.make_node("Add", ["e", "w"], ["y"], name="add"),
    ]
    graph = helper.make_graph(nodes, "soak", [x], [y], [numpy_helper.from_array(WEIGHTS, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process (this one by default), KiB (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def worker_rss_kib() -> int:
    """Resident set size of the example backend's worker process, KiB."""
    worker = getattr(backend_module.get_backend("example:v1"), "_worker", None)
    return rss_kib(worker.pid) if worker is not None and worker.pid is not None else -1


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def scratch_files() -> int:
    """Files in this process's private shm and work folders (logs and working folders)."""
    return sum(
        len(files)
        for kind in ("shm", "work")
        for _, _, files in os.walk(scratch.private_folder(kind))
    )


def soak(session: xinrt.InferenceSession, threads: int, runs: int) -> dict[str, int]:
    """Run `threads` x `runs`; counts of good runs, rejected bad feeds and failures."""
    counts = {"good": 0, "rejected": 0, "failures": 0}
    failures: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        rng = np.random.default_rng(index)
        local = {"good": 0, "rejected": 0, "failures": 0}
        for run in range(runs):
            x = rng.standard_normal((4, 8)).astype(np.float32)
            try:
                if run % 8 == 7:
                    bad = BAD_FEEDS[(run // 8) % len(BAD_FEEDS)](x)
                    try:
                        session.run(None, bad)
                    except xinrt.InvalidInputError:
                        local["rejected"] += 1
                    else:
                        raise AssertionError(f"bad feed {sorted(bad)} was accepted")
                    continue
                (out,) = session.run(None, {"x": x})
                want = np.exp(np.maximum(x, 0)) + WEIGHTS
                if not np.allclose(out, want, rtol=1e-5, atol=1e-6):
                    raise AssertionError(f"wrong answer, max error {np.max(np.abs(out - want))}")
                local["good"] += 1
            except Exception as exc:  # counted and reported: the soak must show zero
                local["failures"] += 1
                with lock:
                    failures.append(f"thread {index} run {run}: {type(exc).__name__}: {exc}")
        with lock:
            for key, value in local.items():
                counts[key] += value

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    for line in failures[:5]:
        print("  " + line, file=sys.stderr)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--runs", type=int, default=10_000, help="runs per thread")
    parser.add_argument("--phases", type=int, default=5, help="RSS is printed after each")
    parser.add_argument(
        "--backends", default="example:v1,cpu", help="e.g. cpu alone, to compare RSS growth"
    )
    args = parser.parse_args(argv)
    if "XINRT_CACHE_DIR" not in os.environ:  # a private cache, removed at the end
        cache = tempfile.TemporaryDirectory(prefix="xinrt-soak-cache-")
        os.environ["XINRT_CACHE_DIR"] = cache.name
    register_example_backend()
    options = xinrt.SessionOptions(placement="priority")  # keep the worker partitions in play
    session = xinrt.InferenceSession(soak_model(), options, backends=args.backends.split(","))
    placed = [p.backend for p in session.placement.partitions]
    print(f"partitions: {placed}")
    soak(session, args.threads, max(args.runs // 100, 8))  # warm-up: caches, arenas, threads
    gc.collect()
    before = {
        "rss_kib": rss_kib(),
        "worker_rss_kib": worker_rss_kib(),
        "fds": open_fds(),
        "scratch_files": scratch_files(),
    }
    started = time.perf_counter()
    counts = {"good": 0, "rejected": 0, "failures": 0}
    for phase in range(args.phases):  # RSS after each phase: a leak grows, a high-water mark not
        for key, value in soak(session, args.threads, args.runs // args.phases).items():
            counts[key] += value
        gc.collect()
        print(f"  after phase {phase + 1}/{args.phases}: rss_kib {rss_kib()}", flush=True)
    seconds = time.perf_counter() - started
    gc.collect()
    after = {
        "rss_kib": rss_kib(),
        "worker_rss_kib": worker_rss_kib(),
        "fds": open_fds(),
        "scratch_files": scratch_files(),
    }
    runs = args.runs // args.phases * args.phases
    print(f"{args.threads} threads x {runs} runs in {seconds:.0f} s: {counts}")
    for key in before:
        print(f"  {key:<14} before {before[key]:>9}  after {after[key]:>9}")
    return 1 if counts["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
