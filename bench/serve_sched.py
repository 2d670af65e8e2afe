"""Where `xinrt serve`'s time goes at one load level: per server thread, CPU ms per request, the
share of wall time it ran and waited in the kernel's run queue (Linux /proc schedstat), and
from the server's own /metrics the mean batch size, batch wall time and queue time, with HTTP
(binary extension) and gRPC loads alternated on one server.

    .venv/bin/python bench/serve_sched.py [--order h,g,h,g] [--concurrency 16] [--requests 400]

On a machine shared with other work, a batch's wall time is mostly run-queue wait: this tells a
server that spends CPU apart from one that does not get it (docs/serving.md, "Benchmark").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve as bench  # noqa: E402  (bench/serve.py: model, server start, load loops)

BATCH_METRICS = ("xinrt_queue_seconds", "xinrt_compute_seconds", "xinrt_batch_size")


def thread_stats(pid: int) -> dict[str, tuple[str, float, float, float]]:
    """thread id -> (name, CPU s, ran s, waited in the run queue s)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ran, waited = (task / "schedstat").read_text().split()[:2]
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        found[task.name] = (name, cpu, int(ran) / 1e9, int(waited) / 1e9)
    return found


def batch_metrics(http: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{http}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.removesuffix("_sum").removesuffix("_count") in BATCH_METRICS:
                sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", default="h,g,h,g", help="h: HTTP, g: gRPC, in this order")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--backends", default="ort")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="xinrt-serve-sched-"))
    model = bench.squeezenet_dynamic(folder)
    port, grpc_port = bench.free_port(), bench.free_port()
    command = [sys.executable, "-m", "xinrt.cli", "serve", str(model.parents[2]), "--port",
               str(port), "--grpc-port", str(grpc_port), "--backends", args.backends]  # fmt: skip
    server = bench.start("xinrt serve", command, port, grpc_port, dict(os.environ), folder / "log")
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    try:
        asyncio.run(bench.load_http(server, x, 4, 40))
        asyncio.run(bench.load_grpc(server, x, 4, 40))
        for kind in args.order.split(","):
            load = bench.load_http if kind == "h" else bench.load_grpc
            before, metrics_before = thread_stats(server.process.pid), batch_metrics(server.http)
            level = asyncio.run(load(server, x, args.concurrency, args.requests))
            after, metrics = thread_stats(server.process.pid), batch_metrics(server.http)
            answered = len(level.latencies) + 2 * args.concurrency
            d = {k: v - metrics_before.get(k, 0.0) for k, v in metrics.items()}
            batches = d["xinrt_batch_size_count"]
            queue_ms = d["xinrt_queue_seconds_sum"] / d["xinrt_queue_seconds_count"] * 1e3
            print(
                f"{'http' if kind == 'h' else 'grpc'} c={args.concurrency}: "
                f"{len(level.latencies) / level.wall_s:.1f} req/s, "
                f"p50 {np.percentile(level.latencies, 50) * 1e3:.1f} ms; "
                f"batches: {d['xinrt_batch_size_sum'] / batches:.2f} rows, "
                f"{d['xinrt_compute_seconds_sum'] / batches * 1e3:.1f} ms each, "
                f"replicas busy {d['xinrt_compute_seconds_sum'] / level.wall_s:.2f} s/s; "
                f"queue {queue_ms:.1f} ms"
            )
            for tid, (name, cpu, ran, waited) in sorted(after.items()):
                if tid not in before or cpu - before[tid][1] < 0.02:
                    continue
                _, cpu0, ran0, waited0 = before[tid]
                if int(tid) == server.process.pid:
                    name = "event loop"
                elif name == "python":  # the replicas' threads (their names stay Python's)
                    name = "python (replica)"
                print(
                    f"    thread {name:<16} CPU {(cpu - cpu0) * 1e3 / answered:5.2f} ms/request, "
                    f"ran {100 * (ran - ran0) / level.wall_s:3.0f} %, "
                    f"run-queue wait {100 * (waited - waited0) / level.wall_s:3.0f} %"
                )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
