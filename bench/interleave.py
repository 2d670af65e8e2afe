"""The interleaved timing loop the kernel benchmarks share: xinrt against raw ONNX Runtime on
the same feeds, the two alternating which runs first, medians of the per-pair ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any


def interleaved_ratio(
    xinrt_session: Any, ort_session: Any, feeds: Mapping[str, Any], runs: int, gap_s: float = 0.0
) -> tuple[float, float, float]:
    """(median xinrt/ORT time ratio, median xinrt ms, median ORT ms) over `runs` pairs.
    `gap_s` sleeps before each run so the other runtime's spinning workers go idle first."""
    ratios, xinrt_ms, ort_ms = [], [], []
    for i in range(runs):
        order = (xinrt_session, ort_session) if i % 2 else (ort_session, xinrt_session)
        seconds = {}
        for session in order:
            if gap_s:
                time.sleep(gap_s)
            start = time.perf_counter()
            session.run(None, feeds)
            seconds[id(session)] = time.perf_counter() - start
        xinrt_ms.append(seconds[id(xinrt_session)] * 1e3)
        ort_ms.append(seconds[id(ort_session)] * 1e3)
        ratios.append(seconds[id(xinrt_session)] / seconds[id(ort_session)])
    return statistics.median(ratios), statistics.median(xinrt_ms), statistics.median(ort_ms)


def timed_run(session: Any, feeds: Mapping[str, Any], gap_s: float) -> float:
    """Seconds of one run after `gap_s` idle and one unrecorded run (bench/RESULTS.md's protocol:
    ORT's spinning threads go idle first, and the recorded run is warm)."""
    time.sleep(gap_s)
    session.run(None, feeds)
    start = time.perf_counter()
    session.run(None, feeds)
    return time.perf_counter() - start


def rotating_times(
    sessions: Mapping[str, Any], feeds: Mapping[str, Any], rounds: int, gap_s: float
) -> list[dict[str, float]]:
    """Per round, each session's timed_run seconds; the order rotates round by round so no
    session always follows the same one."""
    names = list(sessions)
    times = []
    for i in range(rounds):
        shift = i % len(names)
        order = names[shift:] + names[:shift]
        times.append({name: timed_run(sessions[name], feeds, gap_s) for name in order})
    return times
