"""Latency percentiles and per-pair ratios agree with numpy on known data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xinrt.bench.stats import geometric_mean, latency_summary, pair_ratios, ratio_summary


def test_latency_summary_matches_numpy_percentiles_in_milliseconds():
    seconds = [i / 1000 for i in range(1, 101)]  # 1 .. 100 ms
    summary = latency_summary(seconds)
    ms = np.arange(1, 101, dtype=np.float64)
    assert summary["count"] == 100
    for p in (50, 90, 99):
        assert summary[f"p{p}"] == pytest.approx(float(np.percentile(ms, p)))
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p99"] == pytest.approx(99.01)
    assert summary["mean"] == pytest.approx(50.5)
    assert (summary["min"], summary["max"]) == (pytest.approx(1.0), pytest.approx(100.0))


def test_latency_summary_on_skewed_random_data_matches_numpy():
    seconds = np.random.default_rng(3).lognormal(-4, 1, 777)
    summary = latency_summary(list(seconds))
    for p in (50, 90, 99):
        assert summary[f"p{p}"] == pytest.approx(float(np.percentile(seconds * 1e3, p)))
    assert summary["max"] == pytest.approx(float(seconds.max() * 1e3))


def test_latency_summary_of_nothing_has_the_same_keys_with_none():
    empty = latency_summary([])
    assert set(empty) == set(latency_summary([0.001]))
    assert empty["count"] == 0 and empty["p99"] is None


def test_pair_ratios_divide_pair_by_pair_and_summary_takes_their_median():
    ratios = pair_ratios([2.0, 3.0, 8.0], [1.0, 2.0, 2.0])
    assert ratios == [2.0, 1.5, 4.0]
    summary = ratio_summary(ratios)
    assert summary == {
        "pairs": 3,
        "median": 2.0,
        "min": 1.5,
        "max": 4.0,
        "geomean": pytest.approx(12 ** (1 / 3)),
    }


def test_pair_ratios_refuse_unequal_lengths():
    with pytest.raises(ValueError, match="as many"):
        pair_ratios([1.0], [1.0, 2.0])


def test_geometric_mean_skips_non_positive_and_infinite_values():
    assert geometric_mean([1.0, 4.0, math.inf, 0.0]) == pytest.approx(2.0)
    assert geometric_mean([]) is None
