"""Rounds alternate between targets (A B A B ...); each scenario's round counts what it ran."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from xinrt import InvalidArgumentError
from xinrt.bench.scenarios import (
    Target,
    interleave,
    offline_round,
    server_round,
    single_stream_round,
)

FEEDS = {"x": np.zeros((3, 2), np.float32)}


def recording_targets(calls: list[str], names: tuple[str, ...] = ("A", "B")) -> list[Target]:
    def runner(name: str):
        def run(feeds):
            calls.append(name)
            return [feeds["x"]]

        return run

    return [Target(name=n, kind="fake", run=runner(n)) for n in names]


def test_interleave_alternates_targets_in_warmup_and_measured_rounds():
    calls: list[str] = []
    rounds = interleave(
        recording_targets(calls),
        single_stream_round(FEEDS),
        warmup=2,
        iterations=5,
        duration_s=None,
    )
    assert calls == ["A", "B"] * 7
    assert [len(r) for r in rounds.values()] == [5, 5]


def test_interleave_alternates_three_targets_in_order():
    calls: list[str] = []
    interleave(
        recording_targets(calls, ("A", "B", "C")),
        single_stream_round(FEEDS),
        warmup=0,
        iterations=2,
        duration_s=None,
    )
    assert calls == ["A", "B", "C", "A", "B", "C"]


def test_interleave_by_duration_still_runs_min_rounds():
    calls: list[str] = []
    rounds = interleave(
        recording_targets(calls),
        single_stream_round(FEEDS),
        warmup=0,
        iterations=None,
        duration_s=1e-9,
        min_rounds=3,
    )
    assert calls == ["A", "B"] * 3
    assert len(rounds["A"]) == 3


def test_interleave_wants_exactly_one_stopping_rule():
    with pytest.raises(InvalidArgumentError):
        interleave(
            recording_targets([]),
            single_stream_round(FEEDS),
            warmup=0,
            iterations=3,
            duration_s=1.0,
        )


def test_multi_stream_query_of_a_static_batch_concatenates_runs():
    calls: list[str] = []
    target = recording_targets(calls, ("A",))[0]
    result = single_stream_round(FEEDS, repeats=4)(target, 0)
    assert calls == ["A"] * 4
    assert result.samples == 12  # 4 runs of a batch of 3
    assert len(result.latencies_s) == 1 and result.cost_s == result.elapsed_s


def test_offline_round_runs_each_worker_queries_concurrently():
    calls: list[str] = []
    target = recording_targets(calls, ("A",))[0]
    with ThreadPoolExecutor(max_workers=3) as pool:
        result = offline_round(FEEDS, pool, concurrency=3, queries_per_worker=2)(target, 0)
    assert len(calls) == 6 and len(result.latencies_s) == 6
    assert result.samples == 18
    assert result.cost_s == pytest.approx(result.elapsed_s / 18)


def test_server_round_issues_the_requested_arrivals():
    calls: list[str] = []
    target = recording_targets(calls, ("A",))[0]
    with ThreadPoolExecutor(max_workers=2) as pool:
        result = server_round(FEEDS, pool, qps=1e6, queries=10, seed=1)(target, -1)
    assert len(calls) == 10 and len(result.latencies_s) == 10
    assert all(t >= 0 for t in result.latencies_s)


def test_interleave_by_duration_stops_at_max_rounds():
    calls: list[str] = []
    rounds = interleave(
        recording_targets(calls),
        single_stream_round(FEEDS),
        warmup=1,
        iterations=None,
        duration_s=3600.0,
        min_rounds=2,
        max_rounds=4,
    )
    assert calls == ["A", "B"] * 5
    assert len(rounds["B"]) == 4


def test_settle_time_sleeps_before_each_round(monkeypatch):
    from xinrt.bench import scenarios

    sleeps: list[float] = []
    monkeypatch.setattr(scenarios.time, "sleep", sleeps.append)
    calls: list[str] = []

    def one_round(target, index):
        calls.append(target.name)
        return scenarios.Round(latencies_s=[0.001], elapsed_s=0.001, samples=1, cost_s=0.001)

    class _T:
        def __init__(self, name):
            self.name = name

    rounds = scenarios.interleave(
        [_T("a"), _T("b")], one_round, warmup=0, iterations=3, duration_s=None, settle_s=0.05
    )
    assert calls == ["a", "a", "b", "b"] * 3 and sleeps == [0.05] * 6
    assert [len(r) for r in rounds.values()] == [3, 3]
