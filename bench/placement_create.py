"""Session creation with placement "fastest" (cold and warm cost cache) against "priority".

    .venv/bin/python bench/placement_create.py --threads 1,2 --rounds 3

For each model and thread count, `rounds` interleaved rounds of: a "priority" session, a
"fastest" session on an empty cost cache (cold: it times the candidates) and a "fastest"
session on the cache the cold one filled (warm: it times nothing). Prints the medians, the
ratios to "priority" and what "fastest" chose; --json writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import build_model  # noqa: E402

from xinrt import InferenceSession, SessionOptions  # noqa: E402
from xinrt.testing import LIGHT_MODELS  # noqa: E402

BACKENDS = ["cpu", "ort", "reference"]


def _create(path: str, threads: int, placement: str, cache: str) -> tuple[float, Any]:
    os.environ["XINRT_CACHE_DIR"] = cache
    options = SessionOptions(intra_op_num_threads=threads, placement=placement)
    start = time.perf_counter()
    session = InferenceSession(path, options, backends=BACKENDS)
    _create.placement_s = session.timings.get("placement_timing_s", 0.0)  # type: ignore[attr-defined]
    return time.perf_counter() - start, session.placement


def measure(path: str, threads: int, rounds: int, workdir: Path) -> dict[str, Any]:
    """Medians of interleaved priority / cold fastest / warm fastest creations."""
    times: dict[str, list[float]] = {"priority": [], "cold": [], "warm": [], "winner": []}
    chosen = ""
    reason = ""
    spent: list[float] = []
    warm_choosing: list[float] = []  # seconds the warm session spent choosing (cache reads)
    sources: list[str] = []  # the warm session's: "cache" unless the cold one ran out of budget
    for index in range(rounds):
        cache = str(workdir / f"cache-{threads}-{index}")
        seconds, _ = _create(path, threads, "priority", cache)
        times["priority"].append(seconds)
        seconds, report = _create(path, threads, "fastest", cache)
        times["cold"].append(seconds)
        spent.append(float(report.decision.get("timing_s", 0.0)))
        seconds, report = _create(path, threads, "fastest", cache)
        times["warm"].append(seconds)
        warm_choosing.append(_create.placement_s)  # type: ignore[attr-defined]
        sources.append(str(report.decision.get("source", "-")))
        chosen = ", ".join(f"{b} {s:.0%}" for b, s in report.coverage().items() if s > 0)
        winners = [p.backend for p in report.partitions]
        if len(set(winners)) == 1:  # the backend "fastest" chose, alone: its own creation cost
            os.environ["XINRT_CACHE_DIR"] = cache
            options = SessionOptions(intra_op_num_threads=threads, placement="priority")
            start = time.perf_counter()
            InferenceSession(path, options, backends=winners[:1])
            times["winner"].append(time.perf_counter() - start)
        reason = str(report.decision.get("reason", ""))
    medians = {k: statistics.median(v) for k, v in times.items() if v}
    return {
        "threads": threads,
        "median_s": medians,
        "cold_over_priority": medians["cold"] / medians["priority"],
        "warm_over_priority": medians["warm"] / medians["priority"],
        "warm_over_winner_alone": medians["warm"] / medians["winner"] if times["winner"] else None,
        "cold_timing_s": statistics.median(spent),
        "warm_choosing_s": statistics.median(warm_choosing),
        "warm_sources": sources,
        "chosen": chosen,
        "reason": reason,
    }


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=",".join((*LIGHT_MODELS, "bert_encoder")))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="xinrt-placement-create-") as folder:
        workdir = Path(folder)
        for name in args.models.split(","):
            path = workdir / f"{name}.onnx"
            onnx.save(build_model(name), str(path))
            for threads in (int(t) for t in args.threads.split(",")):
                row = {"model": name, **measure(str(path), threads, args.rounds, workdir)}
                results.append(row)
                m = row["median_s"]
                print(
                    f"{name:<14} t{threads}  priority {m['priority']:.3f} s  cold "
                    f"{m['cold']:.3f} s ({row['cold_over_priority']:.2f}x)  warm {m['warm']:.3f} s "
                    f"({row['warm_over_priority']:.2f}x; {_ratio(row['warm_over_winner_alone'])} "
                    f"of the winner alone; choosing {row['warm_choosing_s'] * 1e3:.1f} ms)  "
                    f"chose {row['chosen']}",
                    flush=True,
                )
            path.unlink()
    warm = [r["warm_over_priority"] for r in results]
    cold = [r["cold_over_priority"] for r in results]
    print(
        f"warm/priority: geo-mean {statistics.geometric_mean(warm):.2f}, max {max(warm):.2f}; "
        f"cold/priority: geo-mean {statistics.geometric_mean(cold):.2f}, max {max(cold):.2f}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
