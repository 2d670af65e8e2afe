"""How one round of each scenario runs, and the interleaved loop that runs the rounds.

A *round* is the unit that two targets are compared on: single-stream one query, multi-stream
one query of N samples, offline a burst of concurrent queries, server a burst of Poisson
arrivals. Targets take turns round by round (A B A B ...), so drift in a noisy machine's speed
hits every target alike and the per-pair ratio stays meaningful.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError

SCENARIOS = ("single-stream", "multi-stream", "offline", "server")

Feeds = dict[str, np.ndarray]
RunFn = Callable[[Feeds], list[np.ndarray]]


@dataclass
class Target:
    """One thing to benchmark: an xinrt session over a backend list, or raw ONNX Runtime."""

    name: str
    kind: str  # "xinrt" or "onnxruntime"
    run: RunFn
    backends: list[str] = field(default_factory=list)
    session: Any = None  # what get_inputs() is asked of
    session_create_s: float | None = None
    compile_s: float | None = None
    placement: dict[str, Any] | None = None


@dataclass
class Round:
    """What one round of one target measured."""

    latencies_s: list[float]  # per query
    elapsed_s: float  # wall time of the round
    samples: int  # samples processed (queries x batch)
    cost_s: float  # the number compared between targets, pair by pair


RoundFn = Callable[[Target, int], Round]  # (target, round index; negative in warm-up)


def single_stream_round(feeds: Feeds, repeats: int = 1) -> RoundFn:
    """One query at a time; `repeats` > 1 makes a query of that many back-to-back runs
    (multi-stream on a model whose batch dimension is static)."""

    def one_round(target: Target, index: int) -> Round:
        start = time.perf_counter()
        for _ in range(repeats):
            target.run(feeds)
        elapsed = time.perf_counter() - start
        return Round([elapsed], elapsed, _batch_of(feeds) * repeats, elapsed)

    return one_round


def offline_round(
    feeds: Feeds,
    pool: ThreadPoolExecutor,
    concurrency: int,
    queries_per_worker: int,
    repeats: int = 1,
) -> RoundFn:
    """`concurrency` threads each run `queries_per_worker` queries on the same session; the
    compared cost is wall time per sample (the inverse of throughput)."""

    def worker(target: Target) -> list[float]:
        latencies = []
        for _ in range(queries_per_worker):
            start = time.perf_counter()
            for _ in range(repeats):
                target.run(feeds)
            latencies.append(time.perf_counter() - start)
        return latencies

    def one_round(target: Target, index: int) -> Round:
        start = time.perf_counter()
        futures = [pool.submit(worker, target) for _ in range(concurrency)]
        latencies = [t for f in futures for t in f.result()]
        elapsed = time.perf_counter() - start
        samples = _batch_of(feeds) * repeats * len(latencies)
        return Round(latencies, elapsed, samples, elapsed / samples)

    return one_round


def server_round(
    feeds: Feeds, pool: ThreadPoolExecutor, qps: float, queries: int, seed: int
) -> RoundFn:
    """`queries` arrivals with exponential gaps at rate `qps`, served by the pool's workers.

    Latency runs from the scheduled arrival to completion, so it includes queueing when the
    target falls behind. Round `i` uses the same arrival schedule for every target.
    """

    def timed(target: Target, arrival: float) -> float:
        target.run(feeds)
        return time.perf_counter() - arrival

    def one_round(target: Target, index: int) -> Round:
        gaps = np.random.default_rng([seed, index % (1 << 32)]).exponential(1.0 / qps, queries)
        start = time.perf_counter()
        arrivals = start + np.cumsum(gaps) - gaps[0]
        futures = []
        for arrival in arrivals:
            delay = float(arrival) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(timed, target, float(arrival)))
        wait(futures)
        latencies = [f.result() for f in futures]
        elapsed = time.perf_counter() - start
        return Round(latencies, elapsed, _batch_of(feeds) * queries, float(np.mean(latencies)))

    return one_round


def _batch_of(feeds: Feeds) -> int:
    first = next(iter(feeds.values()), None)
    if not isinstance(first, np.ndarray):  # a dict (map input) or a list: one sample
        return 1
    return int(first.shape[0]) if first.ndim > 0 else 1


def interleave(
    targets: Sequence[Target],
    one_round: RoundFn,
    *,
    warmup: int,
    iterations: int | None,
    duration_s: float | None,
    min_rounds: int = 1,
    max_rounds: int | None = None,
    progress: bool = False,
    label: str = "",
    settle_s: float = 0.0,
) -> dict[str, list[Round]]:
    """Run `warmup` unrecorded rounds, then recorded rounds, targets taking turns (A B A B).

    With `settle_s`, each recorded round comes after that much idle time and one unrecorded
    round of the same target: the other runtime's spinning threads have stopped, and this
    target's own threads are awake, as in back-to-back use. Wall time counts in `duration_s`.

    Stops after `iterations` recorded rounds per target, or once `duration_s` has passed and
    each target has at least `min_rounds` (and at most `max_rounds`). Returns each target's
    recorded rounds by name.
    """
    if (iterations is None) == (duration_s is None):
        raise InvalidArgumentError("interleave wants exactly one of iterations or duration_s")
    for index in range(warmup):
        for target in targets:
            one_round(target, -1 - index)
    rounds: dict[str, list[Round]] = {t.name: [] for t in targets}
    meter = Progress(iterations, label, enabled=progress)
    start = time.perf_counter()
    index = 0
    while True:
        if iterations is not None and index >= iterations:
            break
        if max_rounds is not None and index >= max_rounds:
            break
        if (
            duration_s is not None
            and index >= min_rounds
            and time.perf_counter() - start >= duration_s
        ):
            break
        for target in targets:
            if settle_s:
                time.sleep(settle_s)
                one_round(target, -1)
            rounds[target.name].append(one_round(target, index))
        index += 1
        meter.update(index, time.perf_counter() - start)
    meter.close()
    return rounds


class Progress:
    """A progress bar on stderr: tqdm when it is installed, else a counter line."""

    def __init__(self, total: int | None, label: str, enabled: bool) -> None:
        self._enabled = enabled
        self._total = total
        self._label = label
        self._bar: Any = None
        self._last = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(
            total=total, desc=label or "bench", unit="round", leave=False, file=sys.stderr
        )

    def update(self, done: int, elapsed_s: float) -> None:
        """Record that `done` rounds are finished after `elapsed_s` seconds."""
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            return
        now = time.perf_counter()
        if now - self._last < 0.5:
            return
        self._last = now
        of = f"/{self._total}" if self._total else ""
        print(
            f"\r  {self._label} round {done}{of} ({elapsed_s:.1f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        """Remove the bar or end the counter line."""
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.close()
        elif self._last:
            print("", file=sys.stderr, flush=True)
