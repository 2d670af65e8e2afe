"""Choosing a placement from a table of measured costs: pure functions, no clocks, no backends.

The graph is cut into *units* (stretches of nodes that the same backends claim, in run order).
A plan gives each unit one backend. A plan's predicted time is the sum of its units' measured
times (each measured alone, so each includes one backend call and its own input/output
handling), less what merging two neighbouring units on the same backend saves: one call's
dispatch and the copy of the tensors that pass between them. So a boundary costs exactly what
merging would save, and small islands get absorbed into a neighbour's backend when that is
cheaper. A mixed plan is only ever chosen against the measured whole-model time of every
backend that runs the whole model: never slower than the best of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Plan = tuple[str, ...]  # one backend per unit
PRIORITY_LABEL = "priority order"


@dataclass(frozen=True)
class Unit:
    """Nodes that the same backends claim, run together; `claimants` in priority order."""

    index: int
    nodes: tuple[str, ...]
    claimants: tuple[str, ...]
    flops: int = 0


@dataclass
class CostTable:
    """What was measured (seconds): each unit alone on each backend, each backend's per-call
    dispatch and per-byte copy cost, the bytes between neighbouring units, whole-model runs."""

    units: list[Unit]
    unit_s: list[dict[str, float]]  # per unit: backend -> seconds; absent = not measured
    dispatch_s: dict[str, float] = field(default_factory=dict)
    copy_s_per_byte: dict[str, float] = field(default_factory=dict)
    link_bytes: list[int] = field(default_factory=list)  # unit i -> unit i+1, len(units) - 1
    whole_s: dict[str, float] = field(default_factory=dict)  # backend -> whole-model seconds


@dataclass
class Candidate:
    """One placement considered: its plan, its time and whether that time was measured end to
    end (True) or predicted from unit costs (False)."""

    label: str
    plan: Plan
    seconds: float | None
    measured: bool
    note: str = ""


@dataclass
class Decision:
    """The candidates, the winner and why it won."""

    winner: Candidate
    candidates: list[Candidate]
    reason: str


def unit_options(table: CostTable, index: int) -> dict[str, float]:
    """Backends a unit may take with their costs. A unit measured on no backend keeps its
    first claimant at a cost of 0 (the same in every plan: it cannot change the choice)."""
    unit = table.units[index]
    known = {b: s for b, s in table.unit_s[index].items() if b in unit.claimants}
    return known or {unit.claimants[0]: 0.0}


def merge_saving(table: CostTable, index: int, backend: str) -> float:
    """What running unit `index` and `index + 1` in one call on `backend` saves."""
    link = table.link_bytes[index] if index < len(table.link_bytes) else 0
    return table.dispatch_s.get(backend, 0.0) + table.copy_s_per_byte.get(backend, 0.0) * link


def predicted_seconds(table: CostTable, plan: Plan) -> float:
    """The plan's time from unit costs; infinite if a unit is given a backend it lacks."""
    total = 0.0
    for index, backend in enumerate(plan):
        options = unit_options(table, index)
        if backend not in options:
            return math.inf
        total += options[backend]
        if index + 1 < len(plan) and plan[index + 1] == backend:
            total -= merge_saving(table, index, backend)
    return total


def cheapest_plan(table: CostTable) -> tuple[Plan, float]:
    """The plan with the lowest predicted time (dynamic programming over the units in order;
    the state is the previous unit's backend, which decides whether a boundary is paid)."""
    if not table.units:
        return (), 0.0
    best: dict[str, tuple[float, Plan]] = {
        b: (cost, (b,)) for b, cost in unit_options(table, 0).items()
    }
    for index in range(1, len(table.units)):
        step: dict[str, tuple[float, Plan]] = {}
        for backend, cost in unit_options(table, index).items():
            choices = []
            for previous, (so_far, plan) in best.items():
                saving = merge_saving(table, index - 1, backend) if previous == backend else 0.0
                choices.append((so_far + cost - saving, plan + (backend,)))
            step[backend] = min(choices, key=lambda c: c[0])
        best = step
    cost, plan = min(best.values(), key=lambda c: c[0])
    return plan, cost


def priority_plan(table: CostTable) -> Plan:
    """Every unit on its first claimant: what "priority" placement does."""
    return tuple(unit.claimants[0] for unit in table.units)


def describe(plan: Plan, whole: bool = False) -> str:
    """A label such as "whole model on ort" or "mixed: cpu x3 units, ort x2 units"."""
    if plan and whole:
        return f"whole model on {plan[0]}"
    counts = {b: plan.count(b) for b in dict.fromkeys(plan)}
    if len(counts) == 1:
        return f"every unit on {plan[0]}"
    return "mixed: " + ", ".join(f"{b} x{n} units" for b, n in counts.items())


def decide(
    table: CostTable,
    plan: Plan,
    plan_measured_s: float | None = None,
    *,
    coverage_ok: Callable[[Plan], bool] | None = None,
) -> Decision:
    """Choose between the cheapest plan and each backend's whole-model run.

    `plan` is the cheapest_plan() result; `plan_measured_s` its end-to-end time where it was
    measured. Whole-model candidates always carry measured times; the winner is the fastest
    candidate that satisfies `coverage_ok` (min_coverage), else the priority plan.
    """
    n = len(table.units)
    candidates: list[Candidate] = [
        Candidate(describe((b,) * n, whole=True), (b,) * n, s, True)
        for b, s in sorted(table.whole_s.items(), key=lambda item: item[1])
    ]
    whole_plans = {c.plan for c in candidates}
    if plan not in whole_plans:
        measured = plan_measured_s is not None
        seconds = plan_measured_s if measured else predicted_seconds(table, plan)
        candidates.append(Candidate(describe(plan), plan, seconds, measured))
    first = priority_plan(table)
    if first not in {c.plan for c in candidates}:  # shown for comparison: what priority does
        label = f"{PRIORITY_LABEL} ({describe(first)})"
        candidates.append(Candidate(label, first, predicted_seconds(table, first), False))
    allowed = [c for c in candidates if coverage_ok is None or coverage_ok(c.plan)]
    refused = [c for c in candidates if c not in allowed]
    for c in refused:
        c.note = "fails min_coverage"
    timed = [c for c in allowed if c.seconds is not None and math.isfinite(c.seconds)]
    if any(c.measured for c in timed):  # a prediction never beats a measurement unchecked
        for c in timed:
            if not c.measured:
                c.note = "not measured end to end: cannot be checked against the others"
        timed = [c for c in timed if c.measured]
    if not timed:
        fallback = priority_plan(table)
        winner = Candidate(PRIORITY_LABEL, fallback, None, False, "no timed candidate")
        candidates.append(winner)
        why = "no candidate was timed" if not refused else "no timed candidate meets min_coverage"
        return Decision(winner, candidates, f"{why}: priority order")
    winner = min(timed, key=lambda c: (c.seconds, not c.measured, c.label))
    return Decision(winner, candidates, _reason(winner, timed, refused))


def _reason(winner: Candidate, timed: Sequence[Candidate], refused: Sequence[Candidate]) -> str:
    assert winner.seconds is not None
    others = [c for c in timed if c is not winner]
    how = "measured" if winner.measured else "predicted from unit costs"
    text = f"{winner.label} is fastest ({winner.seconds * 1e3:.3g} ms, {how})"
    if others:
        runner = min(others, key=lambda c: c.seconds or math.inf)
        assert runner.seconds is not None
        text += f"; next {runner.label} {runner.seconds * 1e3:.3g} ms"
    if refused:
        text += "; excluded by min_coverage: " + ", ".join(c.label for c in refused)
    return text


def assignment_of(units: Sequence[Unit], plan: Plan) -> dict[str, str]:
    """Node name -> backend for a plan."""
    return {node: backend for unit, backend in zip(units, plan) for node in unit.nodes}


def coverage_of(units: Sequence[Unit], plan: Plan) -> dict[str, float]:
    """FLOP-weighted share of the model each backend runs under a plan."""
    total = sum(u.flops for u in units) or 1
    shares: dict[str, float] = {}
    for unit, backend in zip(units, plan):
        shares[backend] = shares.get(backend, 0.0) + unit.flops / total
    return shares


def meets_min_coverage(
    units: Sequence[Unit], minimum: Mapping[str, float]
) -> Callable[[Plan], bool]:
    """A predicate: does a plan give each backend at least its min_coverage share?"""

    def check(plan: Plan) -> bool:
        shares = coverage_of(units, plan)
        return all(shares.get(b, 0.0) + 1e-12 >= want for b, want in minimum.items())

    return check
