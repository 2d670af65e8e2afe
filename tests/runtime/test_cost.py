"""The placement choice on synthetic cost tables: no clock, no backend, no model."""

from __future__ import annotations

import math

from xinrt.cost import (
    PRIORITY_LABEL,
    CostTable,
    Unit,
    cheapest_plan,
    decide,
    meets_min_coverage,
    predicted_seconds,
)


def _units(*claims: tuple[str, ...], flops: tuple[int, ...] = ()) -> list[Unit]:
    return [
        Unit(i, (f"n{i}",), claimants, flops[i] if flops else 1)
        for i, claimants in enumerate(claims)
    ]


BOTH = ("cpu", "ort")


def test_the_cheaper_single_backend_wins():
    table = CostTable(_units(BOTH), [{"cpu": 2.0, "ort": 1.0}], whole_s={"cpu": 2.0, "ort": 1.0})
    plan, _ = cheapest_plan(table)
    decision = decide(table, plan)
    assert decision.winner.plan == ("ort",)
    assert decision.winner.label == "whole model on ort" and decision.winner.measured
    assert "next whole model on cpu" in decision.reason


def test_a_mixed_plan_wins_when_it_is_measured_faster_than_every_whole_model():
    table = CostTable(
        _units(BOTH, BOTH, BOTH),
        [{"cpu": 1.0, "ort": 3.0}, {"cpu": 3.0, "ort": 1.0}, {"cpu": 1.0, "ort": 3.0}],
        dispatch_s={"cpu": 0.01, "ort": 0.01},
        link_bytes=[0, 0],
        whole_s={"cpu": 4.9, "ort": 6.9},
    )
    plan, predicted = cheapest_plan(table)
    assert plan == ("cpu", "ort", "cpu") and math.isclose(predicted, 3.0)
    decision = decide(table, plan, plan_measured_s=3.2)
    assert decision.winner.plan == ("cpu", "ort", "cpu")
    assert decision.winner.label == "mixed: cpu x2 units, ort x1 units"


def test_never_slower_than_the_best_whole_model_even_when_the_prediction_says_so():
    table = CostTable(
        _units(BOTH, BOTH),
        [{"cpu": 1.0, "ort": 5.0}, {"cpu": 5.0, "ort": 1.0}],
        whole_s={"cpu": 3.0, "ort": 3.5},
    )
    plan, predicted = cheapest_plan(table)
    assert plan == ("cpu", "ort") and predicted == 2.0
    measured_slower = decide(table, plan, plan_measured_s=3.4)
    assert measured_slower.winner.plan == ("cpu", "cpu")
    unmeasured = decide(table, plan, plan_measured_s=None)  # a prediction is not a measurement
    assert unmeasured.winner.plan == ("cpu", "cpu")
    mixed = next(c for c in unmeasured.candidates if c.plan == ("cpu", "ort"))
    assert not mixed.measured and "not measured end to end" in mixed.note


def test_boundary_costs_absorb_a_small_island_into_its_neighbours_backend():
    costs = [{"cpu": 1.0, "ort": 1.2}, {"cpu": 0.3, "ort": 0.1}, {"cpu": 1.0, "ort": 1.2}]
    free = CostTable(_units(BOTH, BOTH, BOTH), costs, link_bytes=[1_000_000, 1_000_000])
    assert cheapest_plan(free)[0] == ("cpu", "ort", "cpu")  # boundaries free: the island moves
    paid = CostTable(
        _units(BOTH, BOTH, BOTH),
        costs,
        dispatch_s={"cpu": 0.05, "ort": 0.05},
        copy_s_per_byte={"cpu": 1e-7, "ort": 1e-7},
        link_bytes=[1_000_000, 1_000_000],
    )
    plan, predicted = cheapest_plan(paid)
    assert plan == ("cpu", "cpu", "cpu")  # each boundary costs 0.15: the island stays on cpu
    assert math.isclose(predicted, 2.3 - 2 * 0.15)
    assert predicted < predicted_seconds(paid, ("cpu", "ort", "cpu"))


def test_an_island_only_one_backend_runs_pulls_cheap_neighbours_onto_it():
    table = CostTable(
        _units(BOTH, ("ort",), BOTH),
        [{"cpu": 0.5, "ort": 0.6}, {"ort": 0.1}, {"cpu": 0.5, "ort": 0.6}],
        dispatch_s={"cpu": 0.2, "ort": 0.2},
        link_bytes=[0, 0],
    )
    plan, predicted = cheapest_plan(table)
    assert plan == ("ort", "ort", "ort")
    assert math.isclose(predicted, 1.3 - 0.4)
    assert predicted_seconds(table, ("cpu", "cpu", "cpu")) == math.inf  # cpu lacks unit 1


def test_a_unit_measured_nowhere_keeps_its_first_claimant_and_changes_nothing():
    table = CostTable(_units(BOTH, BOTH), [{}, {"cpu": 2.0, "ort": 1.0}])
    plan, predicted = cheapest_plan(table)
    assert plan == ("cpu", "ort") and predicted == 1.0


def test_min_coverage_excludes_a_faster_candidate_that_misses_it():
    units = _units(BOTH, BOTH, flops=(90, 10))
    table = CostTable(units, [{"cpu": 2.0, "ort": 1.0}] * 2, whole_s={"cpu": 4.0, "ort": 2.0})
    plan, _ = cheapest_plan(table)
    decision = decide(table, plan, coverage_ok=meets_min_coverage(units, {"cpu": 0.5}))
    assert decision.winner.plan == ("cpu", "cpu")
    ort = next(c for c in decision.candidates if c.plan == ("ort", "ort"))
    assert ort.note == "fails min_coverage" and "excluded by min_coverage" in decision.reason


def test_priority_order_when_no_candidate_meets_min_coverage_or_none_was_timed():
    units = _units(BOTH)
    table = CostTable(units, [{"cpu": 2.0, "ort": 1.0}], whole_s={"cpu": 2.0, "ort": 1.0})
    decision = decide(table, ("ort",), coverage_ok=meets_min_coverage(units, {"npu": 0.5}))
    assert decision.winner.label == PRIORITY_LABEL and decision.winner.plan == ("cpu",)
    nothing = CostTable(units, [{}], whole_s={"cpu": math.inf})
    assert decide(nothing, ("cpu",), plan_measured_s=math.inf).winner.label == PRIORITY_LABEL
