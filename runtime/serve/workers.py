"""`--workers N`: N server processes sharing the two ports (SO_REUSEPORT; the kernel spreads
connections). Each process loads its own models, so nothing is pickled across processes, and
each serves both REST and gRPC. Metrics are per process."""

from __future__ import annotations

import gc
import multiprocessing
import queue
import signal
import sys
from typing import Any

from .server import ServeOptions, run, serve


def _worker(options: ServeOptions, ready: Any) -> None:
    import asyncio

    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(serve(options, on_ready=ready.put))


def run_workers(options: ServeOptions) -> int:
    """Start the workers, print one ready line when all are ready, stop them on a signal."""
    if options.workers <= 1:
        run(options)
        return 0
    if options.port == 0 or options.grpc_port == 0:
        print("xinrt serve: --workers needs fixed ports (not 0)", file=sys.stderr)
        return 2
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    processes = [
        context.Process(target=_worker, args=(options, ready), name=f"xinrt-serve-{i}")
        for i in range(options.workers)
    ]
    for process in processes:
        process.start()
    gc.enable()  # off while starting (cli.py); each worker starts with its own

    def forward(sig: int, frame: Any) -> None:  # each worker stops gracefully on SIGTERM
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    lines: list[str] = []
    while len(lines) < len(processes):
        try:
            lines.append(ready.get(timeout=0.5))
        except queue.Empty:
            if not all(p.is_alive() for p in processes):
                forward(signal.SIGTERM, None)
                break
    if len(lines) == len(processes):
        print(f"{lines[0]} workers={options.workers}", flush=True)
    for process in processes:
        process.join()
    return max((p.exitcode or 0) for p in processes)
