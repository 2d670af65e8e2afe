"""Statistics of a benchmark: latency percentiles, per-pair ratios, geometric means."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

PERCENTILES = (50, 90, 99)


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, min, p50, p90, p99 and max of latencies given in seconds, in milliseconds.

    Percentiles interpolate linearly between the two nearest ranks (numpy's default method), so
    p99 of fewer than 100 samples lies between the two slowest. Empty input gives None values.
    """
    summary: dict[str, float | int | None] = {"count": len(seconds)}
    keys = ["mean", "min", *(f"p{p}" for p in PERCENTILES), "max"]
    if not seconds:
        summary.update({k: None for k in keys})
        return summary
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    summary["mean"] = float(np.mean(ms))
    summary["min"] = float(np.min(ms))
    for p in PERCENTILES:
        summary[f"p{p}"] = float(np.percentile(ms, p))
    summary["max"] = float(np.max(ms))
    return summary


def pair_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Element-wise numerator / denominator of interleaved pairs (pair i ran back to back)."""
    if len(numerators) != len(denominators):
        raise ValueError(
            f"pair_ratios wants as many numerators as denominators, got {len(numerators)} "
            f"and {len(denominators)}"
        )
    return [a / b if b > 0 else math.inf for a, b in zip(numerators, denominators)]


def ratio_summary(ratios: Sequence[float]) -> dict[str, float | int | None]:
    """pairs, median, min, max and geometric mean of per-pair ratios."""
    if not ratios:
        return {"pairs": 0, "median": None, "min": None, "max": None, "geomean": None}
    values = np.asarray(ratios, dtype=np.float64)
    return {
        "pairs": len(ratios),
        "median": float(np.median(values)),
        "min": float(np.min(values)),
        "max": float(np.max(values)),
        "geomean": geometric_mean(ratios),
    }


def geometric_mean(values: Sequence[float]) -> float | None:
    """Geometric mean of positive finite values; None when there are none."""
    kept = [v for v in values if v > 0 and math.isfinite(v)]
    if not kept:
        return None
    return float(math.exp(sum(math.log(v) for v in kept) / len(kept)))
