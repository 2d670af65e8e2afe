"""Placement "fastest": time what the backends could run, then let runtime/cost.py choose.

The graph is cut into units (stretches whose nodes the same backends claim; the last-resort
reference is left out wherever another backend claims a node). Costs come from the on-disk cost
cache or are measured now, within SessionOptions.placement_budget_s: each backend that runs the
whole model, each backend's boundary cost, each unit on each backend that claims it (on inputs
captured from a run of the model on seeded random feeds), and the cheapest mixed plan end to
end. What is compiled while timing is handed to the session, which reuses what it places.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir

from . import measure
from .backend import Backend, CompileOptions, Executable, Support
from .cost import (
    PRIORITY_LABEL,
    CostTable,
    Decision,
    Plan,
    Unit,
    assignment_of,
    cheapest_plan,
    decide,
    meets_min_coverage,
)
from .cost_cache import CostCache, environment_key, nodes_signature
from .flops import node_flops
from .graph_utils import name_of
from .measure import boundary_cost, run_steps, runner, seeded_feeds
from .partition import Partition, partition_graph

ReadyKey = tuple[str, frozenset[str]]
SETTLE_S = 0.02  # idle before timing another backend: ORT's workers spin after a run


def ready_key(partition: Partition) -> ReadyKey:
    """Which compiled partition can stand in for another: same backend, same nodes."""
    return partition.backend, frozenset(name_of(n) for n in partition.nodes)


ONE_CLAIMANT = "each node has one backend to run it: nothing to compare"


@dataclass
class FastestSetup:
    """What the session hands over: the backends, how to compile, and the options."""

    graph: ir.Graph
    priority: Sequence[str]
    instances: Mapping[str, Backend]
    capabilities: Mapping[str, Mapping[str, Support]]
    compile: Callable[[Partition], Executable]  # the session's compile (declines propagate)
    compile_options: Callable[[str], CompileOptions]
    ir_version: int
    threads: int
    runs: int
    budget_s: float
    free_dimensions: Mapping[str, int]
    min_coverage: Mapping[str, float]
    whole_model: onnx.ModelProto | None = None  # the original model, for backends preferring it
    given_model: str | bytes | None = None  # the same as the user gave it (path or bytes)
    # Inputs to time with (a run's real feeds, runtime/first_run.py); None: made up, seeded.
    feeds: Mapping[str, np.ndarray] | None = None


@dataclass
class FastestResult:
    """The chosen node -> backend map, the explanation, and what was compiled while timing."""

    assignment: dict[str, str]
    explanation: dict[str, Any]
    ready: dict[ReadyKey, Executable] = field(default_factory=dict)
    # Candidates were compared on made-up inputs, and whether one failed on them: the choice
    # may not hold for a run's real inputs (runtime/first_run.py compares their shapes).
    made_up: bool = False
    failed: bool = False


def place_fastest(
    setup: FastestSetup, priority_assignment: Mapping[str, str], pinned: set[str]
) -> FastestResult:
    """Choose the fastest placement, starting from the priority one (already validated)."""
    return _Placer(setup, priority_assignment, pinned).place()


class _Placer:
    def __init__(self, setup: FastestSetup, base: Mapping[str, str], pinned: set[str]) -> None:
        self.s = setup
        self.base = dict(base)
        self.pinned = pinned
        self._cache: CostCache | None = None
        self._environments: dict[str, str] = {}
        self.notes: list[str] = []
        self.ready: dict[ReadyKey, Executable] = {}
        self.deadline = 0.0
        self.measured_any = False
        self.cached_any = False
        self.feeds: dict[str, np.ndarray] | None = None
        self.last_backend = ""
        self.failed = False  # a candidate failed on the made-up inputs (or could not have any)

    # -- the whole flow -------------------------------------------------------------------

    def place(self) -> FastestResult:
        result = self._place()
        if result.explanation.get("reason") != ONE_CLAIMANT and self.s.feeds is None:
            result.made_up, result.failed = True, self.failed
        return result

    def _place(self) -> FastestResult:
        started = time.perf_counter()
        self.deadline = started + self.s.budget_s
        units, parts = self._units()
        wholes = self._whole_backends()
        table = CostTable(units=units, unit_s=[{} for _ in units])
        table.link_bytes = _link_bytes(parts)
        explanation: dict[str, Any] = {"mode": "fastest"}
        if all(len(u.claimants) == 1 for u in units) and len(wholes) <= 1:
            explanation["reason"] = ONE_CLAIMANT
            return FastestResult(self.base, explanation)
        self.model_sig = nodes_signature(self.s.graph, list(self.s.graph.inputs))
        if self.s.feeds is not None:  # costs at these sizes are not those at made-up ones
            shapes = ";".join(f"{k}{list(np.shape(v))}" for k, v in sorted(self.s.feeds.items()))
            self.model_sig += f":feeds {shapes}"
        self._whole_costs(table, wholes)
        self._boundary_costs(table, units)
        if len(units) > 1:
            self._unit_costs(table, units, parts)
        else:
            table.unit_s[0] = {b: s for b, s in table.whole_s.items() if b in units[0].claimants}
        if not table.whole_s and not any(table.unit_s):
            explanation["reason"] = "nothing could be timed: priority order"
            explanation["notes"] = list(self.notes)
            return FastestResult(self.base, explanation, self.ready)
        plan, _ = cheapest_plan(table)
        measured = None
        if not self._is_whole(table, plan):
            measured = self._plan_cost(table, plan)
        coverage = meets_min_coverage(units, self.s.min_coverage) if self.s.min_coverage else None
        decision = decide(table, plan, measured, coverage_ok=coverage)
        self.cache.flush()
        winner = decision.winner
        assignment = (
            self.base
            if winner.label == PRIORITY_LABEL
            else {**self.base, **assignment_of(units, winner.plan)}
        )
        explanation.update(self._explain(table, decision, time.perf_counter() - started))
        return FastestResult(assignment, explanation, self.ready)

    # -- units and candidates -------------------------------------------------------------

    def _claimants(self, node: ir.Node) -> tuple[str, ...]:
        name = name_of(node)
        if name in self.pinned:
            return (self.base[name],)
        claims = tuple(b for b in self.s.priority if self.s.capabilities[b][name].claimed)
        fast = tuple(b for b in claims if not self.s.instances[b].last_resort)
        return fast or claims

    def _units(self) -> tuple[list[Unit], list[Partition]]:
        labels = {name_of(n): "|".join(self._claimants(n)) for n in self.s.graph}
        parts = partition_graph(self.s.graph, labels, ir_version=self.s.ir_version)
        units = [
            Unit(
                index=p.index,
                nodes=tuple(name_of(n) for n in p.nodes),
                claimants=tuple(p.backend.split("|")),
                flops=sum(node_flops(n) for n in p.nodes),
            )
            for p in parts
        ]
        return units, parts

    def _whole_backends(self) -> list[str]:
        """Backends that claim every node (and every pin), the last-resort one excepted."""
        found = []
        for backend in self.s.priority:
            if self.s.instances[backend].last_resort:
                continue
            answers = self.s.capabilities[backend]
            if all(answers[name_of(n)].claimed for n in self.s.graph) and all(
                self.base[n] == backend for n in self.pinned
            ):
                found.append(backend)
        return found

    @staticmethod
    def _is_whole(table: CostTable, plan: Plan) -> bool:
        return len(set(plan)) == 1 and plan[0] in table.whole_s

    # -- costs: from the cache, else measured ---------------------------------------------

    @property
    def cache(self) -> CostCache:
        if self._cache is None:
            self._cache = CostCache()
        return self._cache

    def _environment(self, backends: str) -> str:
        """The cache's environment part for one backend or a comma-separated list of them."""
        if backends not in self._environments:
            names = backends.split(",")
            devices = [d.name for b in names for d in self.s.instances[b].devices()]
            precisions = [self.s.compile_options(b).precision for b in names]
            self._environments[backends] = environment_key(
                backends, devices, self.s.threads, precisions
            )
        return self._environments[backends]

    def _cached_field(self, model: str, part: str, backend: str, key: str) -> Any:
        """A cached candidate's `key`: "seconds" it took, or why it "failed" on the timing
        inputs (then it is not run again); None when the cache has no such record."""
        record = self.cache.get(model, part, self._environment(backend))
        if record is None or key not in record:
            return None
        self.cached_any = True
        return record[key]

    def _cached(self, model: str, part: str, backend: str) -> float | None:
        seconds = self._cached_field(model, part, backend, "seconds")
        return None if seconds is None else float(seconds)

    def _store_failure(self, model: str, part: str, backend: str, note: str) -> None:
        self.notes.append(note)
        self.failed = True
        self.measured_any = True
        record = {"failed": note, "backend": backend, "what": part, "threads": self.s.threads}
        self.cache.put(model, part, self._environment(backend), record)

    def _store(self, model: str, part: str, backend: str, seconds: float, what: str) -> None:
        self.measured_any = True
        self.cache.put(
            model,
            part,
            self._environment(backend),
            {"seconds": seconds, "backend": backend, "what": what, "threads": self.s.threads},
        )

    def _budget_left(self, what: str) -> bool:
        if time.perf_counter() < self.deadline:
            return True
        self.notes.append(f"time budget spent: {what} not timed")
        return False

    def _timing_feeds(self) -> dict[str, np.ndarray] | None:
        if self.feeds is None and self.s.feeds is not None:
            shapes = ", ".join(f"{k} {list(np.shape(v))}" for k, v in self.s.feeds.items())
            self.notes.append(f"timed on the inputs of the first run ({shapes})")
            self.feeds = dict(self.s.feeds)
        if self.feeds is None:
            feeds, why, guessed = seeded_feeds(list(self.s.graph.inputs), self.s.free_dimensions)
            self.failed = self.failed or bool(why)
            if guessed:
                sizes = ", ".join(f"{name}={size}" for name, size in guessed.items())
                self.notes.append(
                    f"timed at made-up sizes of symbolic dims ({sizes}); give the real ones with "
                    "SessionOptions.add_free_dimension_override_by_name"
                )
            if why:
                self.notes.append(f"cannot time this model ({why}); priority order used")
                self.feeds = {}
                return None
            self.feeds = feeds
        return self.feeds if self.feeds or not self.s.graph.inputs else None

    def _time(
        self,
        backend: str,
        run: Callable[[], object],
        what: str,
        runs: int | None = None,
        warm_up: bool = True,
        turns: int = 1,
    ) -> float:
        """Seconds per run of one candidate (`what`: whole, unit or plan) on `backend`: the
        fastest of `runs` calls (SessionOptions.placement_runs when None), one of `turns`."""
        if self.last_backend and self.last_backend != backend:
            time.sleep(SETTLE_S)
        self.last_backend = backend
        share = max(0.0, self.deadline - time.perf_counter()) / 4  # leave room for the rest
        runs = self.s.runs if runs is None else runs
        return measure.time_runs(run, runs, share, warm_up, measure.MIN_TIMED_S / turns)

    def _alternate(
        self, runs: Mapping[str, Callable[[], object]], what: str
    ) -> dict[str, float | Exception]:
        """Each backend's seconds for the same work, or what it raised. Two or more are timed
        in turns (A B, B A, ...), one call each per turn, for placement_runs turns: a burst of
        load on a shared machine then slows every candidate's calls alike instead of all of one
        candidate's, whose minimum would be cached and keep a wrong choice."""
        results: dict[str, float | Exception] = {}
        order = list(runs)
        turns = max(1, self.s.runs) if len(order) > 1 else 1
        for turn in range(turns):
            if turn and time.perf_counter() > self.deadline:
                self.notes.append(f"time budget spent: candidates ({what}) timed in {turn} turns")
                break
            for backend in order if turn % 2 == 0 else order[::-1]:
                if isinstance(results.get(backend), Exception):
                    continue
                try:
                    seconds = self._time(
                        backend,
                        runs[backend],
                        what,
                        runs=1 if turns > 1 else None,
                        warm_up=turn == 0,
                        turns=turns,
                    )
                except Exception as exc:  # random inputs a model cannot take: not a backend bug
                    results[backend] = exc
                    continue
                best = results.get(backend)
                results[backend] = min(best, seconds) if isinstance(best, float) else seconds
        return results

    def _compile(self, partition: Partition) -> Executable:
        key = ready_key(partition)
        if key not in self.ready:
            self.ready[key] = self.s.compile(partition)
        return self.ready[key]

    def _whole_costs(self, table: CostTable, wholes: Sequence[str]) -> None:
        todo: dict[str, Callable[[], object]] = {}
        for backend in wholes:
            cached = self._cached(self.model_sig, "whole", backend)
            if cached is not None:
                table.whole_s[backend] = cached
                continue
            failed = self._cached_field(self.model_sig, "whole", backend, "failed")
            if failed is not None:
                self.notes.append(f"{failed} (cached)")
                self.failed = True
                continue
            feeds = self._timing_feeds()
            if feeds is None:  # always timed otherwise: they guard the choice (fewer runs late)
                continue
            assignment = {name_of(n): backend for n in self.s.graph}
            partition = partition_graph(self.s.graph, assignment, ir_version=self.s.ir_version)[0]
            if (
                self.s.whole_model is not None
                and self.s.instances[backend].prefers_original_model
                and {name_of(v) for v in partition.inputs}
                == {name_of(v) for v in self.s.graph.inputs}
            ):
                partition.whole_model = self.s.whole_model
                partition.given_model = self.s.given_model
            todo[backend] = runner(self._compile(partition), feeds)
        for backend, result in self._alternate(todo, "whole").items():
            if isinstance(result, Exception):
                note = f"whole model on {backend} failed on random inputs: {result}"
                self._store_failure(self.model_sig, "whole", backend, note)
                continue
            table.whole_s[backend] = result
            self._store(self.model_sig, "whole", backend, result, "whole model")

    def _boundary_costs(self, table: CostTable, units: Sequence[Unit]) -> None:
        involved = list(
            dict.fromkeys(b for u in units if len(u.claimants) > 1 for b in u.claimants)
        )
        for backend in involved:
            cached = self.cache.get("", "boundary", self._environment(backend))
            if cached is not None:
                self.cached_any = True
                table.dispatch_s[backend] = float(cached["dispatch_s"])
                table.copy_s_per_byte[backend] = float(cached["copy_s_per_byte"])
                continue
            if self._timing_feeds() is None:
                continue
            self.last_backend = backend
            measured = boundary_cost(
                self.s.instances[backend], backend, self.s.compile_options(backend), self.s.runs
            )
            if measured is None:
                self.notes.append(f"{backend}: no boundary probe (Identity); boundaries cost 0")
                continue
            table.dispatch_s[backend], table.copy_s_per_byte[backend] = measured
            self.measured_any = True
            self.cache.put(
                "",
                "boundary",
                self._environment(backend),
                {
                    "dispatch_s": measured[0],
                    "copy_s_per_byte": measured[1],
                    "backend": backend,
                    "what": "boundary (dispatch + copy per byte)",
                    "threads": self.s.threads,
                },
            )

    def _unit_costs(
        self, table: CostTable, units: Sequence[Unit], parts: Sequence[Partition]
    ) -> None:
        signatures = [nodes_signature(p.nodes, p.inputs) for p in parts]
        missing: list[tuple[int, str]] = []
        for index, unit in enumerate(units):
            if len(unit.claimants) < 2:
                continue
            for backend in unit.claimants:
                cached = self._cached(self.model_sig, signatures[index], backend)
                if cached is None:
                    missing.append((index, backend))
                else:
                    table.unit_s[index][backend] = cached
        if not missing:
            return
        values = self._capture(units, parts)
        if values is None:
            return
        # The heaviest units first, each on all its claimants in turns, so a short budget still
        # compares where it matters.
        by_unit: dict[int, list[str]] = {}
        for index, backend in missing:
            by_unit.setdefault(index, []).append(backend)
        for index in sorted(by_unit, key=lambda i: -units[i].flops):
            if not self._budget_left(f"unit {index} (and the rest)"):
                return
            if any(name_of(v) not in values for v in parts[index].inputs):
                continue
            feeds = {name_of(v): values[name_of(v)] for v in parts[index].inputs}
            todo = {
                backend: runner(
                    self._compile(dataclasses.replace(parts[index], backend=backend)), feeds
                )
                for backend in by_unit[index]
            }
            for backend, result in self._alternate(todo, "unit").items():
                if isinstance(result, Exception):
                    note = f"unit {index} on {backend} failed on captured inputs: {result}"
                    self.notes.append(note)
                    continue
                table.unit_s[index][backend] = result
                self._store(self.model_sig, signatures[index], backend, result, f"unit {index}")

    def _capture(self, units: Sequence[Unit], parts: Sequence[Partition]) -> dict[str, Any] | None:
        """Every value between units, from one run of the units on their first claimants."""
        feeds = self._timing_feeds()
        if feeds is None:
            return None
        steps = [
            (p, self._compile(dataclasses.replace(p, backend=u.claimants[0])))
            for u, p in zip(units, parts)
        ]
        try:
            return run_steps(steps, feeds)
        except Exception as exc:
            self.notes.append(f"the model failed on random inputs ({exc}); units not timed")
            self.failed = True
            return None

    def _plan_cost(self, table: CostTable, plan: Plan) -> float | None:
        """The cheapest mixed plan's end-to-end time (cached or measured), else None."""
        assignment = {**self.base, **assignment_of(table.units, plan)}
        parts = partition_graph(self.s.graph, assignment, ir_version=self.s.ir_version)
        signature = (
            "plan:"
            + nodes_signature(
                [n for p in parts for n in p.nodes], [v for p in parts for v in p.inputs]
            )
            + ":"
            + ",".join(p.backend for p in parts)
        )
        backends = ",".join(dict.fromkeys(p.backend for p in parts))
        cached = self._cached(self.model_sig, signature, backends)
        if cached is not None:
            return cached
        feeds = self._timing_feeds()
        if feeds is None or not self._budget_left("the mixed plan end to end"):
            return None
        steps = [(p, self._compile(p)) for p in parts]
        try:
            seconds = self._time(backends, lambda: run_steps(steps, feeds), "plan")
        except Exception as exc:
            self.notes.append(f"the mixed plan failed on random inputs: {exc}")
            return None
        self._store(self.model_sig, signature, backends, seconds, f"mixed plan over {backends}")
        return seconds

    # -- the explanation ------------------------------------------------------------------

    def _explain(self, table: CostTable, decision: Decision, spent: float) -> dict[str, Any]:
        source = (
            "measured"
            if self.measured_any and not self.cached_any
            else "cache"
            if self.cached_any and not self.measured_any
            else "partly cached"
            if self.measured_any
            else "nothing timed"
        )
        chosen = decision.winner.plan
        units = [
            {
                "index": u.index,
                "nodes": len(u.nodes),
                "first_node": u.nodes[0] if u.nodes else "",
                "claimants": list(u.claimants),
                "flops": u.flops,
                "ms": {b: s * 1e3 for b, s in table.unit_s[u.index].items()},
                "chosen": chosen[u.index] if u.index < len(chosen) else "",
            }
            for u in table.units
        ]
        return {
            "reason": decision.reason,
            "source": source,
            "timing_s": spent,
            "candidates": [
                {
                    "label": c.label,
                    "ms": None if c.seconds is None else c.seconds * 1e3,
                    "measured": c.measured,
                    "winner": c is decision.winner,
                    "note": c.note,
                }
                for c in decision.candidates
            ],
            "units": units,
            "boundary": {
                b: {
                    "dispatch_ms": table.dispatch_s[b] * 1e3,
                    "copy_ms_per_mb": table.copy_s_per_byte.get(b, 0.0) * 1e3 * (1 << 20),
                }
                for b in table.dispatch_s
            },
            "notes": list(self.notes),
        }


def _link_bytes(parts: Sequence[Partition]) -> list[int]:
    """Bytes that unit i hands to unit i+1, from static shapes (0 where unknown)."""
    links = []
    for current, following in zip(parts, parts[1:]):
        produced = {name_of(v): v for v in current.outputs}
        total = 0
        for value in following.inputs:
            if name_of(value) in produced:
                total += _static_bytes(value)
        links.append(total)
    return links


def _static_bytes(value: ir.Value) -> int:
    if value.shape is None or value.dtype is None:
        return 0
    count = 1
    for dim in value.shape:
        if not isinstance(dim, int):
            return 0
        count *= dim
    try:
        return count * int(value.dtype.itemsize)
    except (AttributeError, TypeError):
        return 0
