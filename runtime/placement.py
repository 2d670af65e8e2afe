"""Decide which backend runs each node, and report it: what ran where, and why."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import onnx_ir as ir

from .backend import Support
from .errors import PlacementError
from .flops import node_flops
from .graph_utils import name_of
from .partition import Partition


@dataclass
class NodePlacement:
    """One node's backend, and the reasons of every higher-priority backend that declined it."""

    name: str
    op_type: str
    backend: str
    partition: int
    flops: int
    declined: dict[str, str] = field(default_factory=dict)
    pinned: bool = False  # placed by a placement override


@dataclass
class PartitionSummary:
    index: int
    backend: str
    nodes: int
    flops: int
    flop_share: float
    inputs: list[str]
    outputs: list[str]
    details: dict[str, Any] = field(default_factory=dict)  # the executable's own report


@dataclass
class PlacementReport:
    """What runs where: per node, per partition, and the tensors that cross partitions."""

    model: str
    backends: list[str]
    nodes: list[NodePlacement]
    partitions: list[PartitionSummary]
    boundary_tensors: int
    devices: dict[str, list[str]] = field(default_factory=dict)
    # How the placement was chosen: mode ("fastest", "priority", "strict"), and for "fastest"
    # the reason, the candidates with their times, per-unit costs and notes (see explain()).
    decision: dict[str, Any] = field(default_factory=dict)
    # Compiles that failed with an error and were placed elsewhere (fallback_on_backend_error).
    fallbacks: list[dict[str, Any]] = field(default_factory=list)

    def coverage(self) -> dict[str, float]:
        """FLOP-weighted share of the model each backend runs."""
        shares: dict[str, float] = {b: 0.0 for b in self.backends}
        for p in self.partitions:
            shares[p.backend] = shares.get(p.backend, 0.0) + p.flop_share
        return shares

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form of the report."""
        data = asdict(self)
        data["coverage"] = self.coverage()
        return data

    def __str__(self) -> str:
        lines = [
            f"placement of {self.model}: {len(self.nodes)} nodes, "
            f"{len(self.partitions)} partitions, {self.boundary_tensors} tensors cross "
            "partition boundaries"
        ]
        if self.decision.get("reason"):
            lines.append(f"  chosen by {self.decision['mode']}: {self.decision['reason']}")
        for fallback in self.fallbacks:
            lines.append(
                f"  fell back from {fallback['backend']} (partition {fallback['partition']}, "
                f"{fallback['nodes']} nodes): {fallback['error']}"
            )
        lines.append(f"  {'backend':<16} {'nodes':>6} {'FLOP share':>11}  devices")
        for backend, share in self.coverage().items():
            count = sum(1 for n in self.nodes if n.backend == backend)
            devices = ", ".join(self.devices.get(backend, [])) or "-"
            lines.append(f"  {backend:<16} {count:>6} {share:>10.1%}  {devices}")
        lines.append(f"  {'partition':<10} {'backend':<16} {'nodes':>6} {'FLOP share':>11}")
        for p in self.partitions:
            extra = "  " + ", ".join(f"{k}={v}" for k, v in p.details.items()) if p.details else ""
            lines.append(
                f"  {p.index:<10} {p.backend:<16} {p.nodes:>6} {p.flop_share:>10.1%}{extra}"
            )
        grouped: dict[tuple[str, str], list[str]] = {}
        for n in self.nodes:
            for backend, reason in n.declined.items():
                grouped.setdefault((backend, reason), []).append(n.op_type)
        if grouped:
            lines.append("  declined (backend: reason -> nodes; per node in .to_dict()):")
            for (backend, reason), ops in grouped.items():
                counts = ", ".join(f"{op} x{ops.count(op)}" for op in dict.fromkeys(ops))
                lines.append(f"    {backend}: {reason} -> {counts}")
        return "\n".join(lines)

    def explain(self) -> str:
        """The report, then how "fastest" chose: each candidate's time, each unit's costs."""
        return f"{self}\n{explain_decision(self.decision)}"


def explain_decision(decision: dict[str, Any]) -> str:
    """A readable account of a placement decision (PlacementReport.decision)."""
    mode = decision.get("mode", "priority")
    if mode != "fastest":
        return f"placement mode {mode}: each node on the first backend that claims it"
    lines = [f"placement mode fastest: {decision.get('reason', '')}"]
    if "source" in decision:
        lines.append(
            f"  costs: {decision['source']}; {decision.get('timing_s', 0.0):.3f} s spent choosing"
        )
    if decision.get("candidates"):
        lines.append(f"  {'candidate':<44} {'ms':>10}  how")
    for c in decision.get("candidates", []):
        ms = "-" if c["ms"] is None else f"{c['ms']:.3f}"
        how = "measured end to end" if c["measured"] else "predicted from unit costs"
        mark = "* " if c["winner"] else "  "
        note = f"  ({c['note']})" if c["note"] else ""
        lines.append(f"{mark}{c['label']:<44} {ms:>10}  {how}{note}")
    units = decision.get("units", [])
    if len(units) > 1:
        lines.append(
            f"  {'unit':<5} {'nodes':>5}  {'first node':<28} {'chosen':<10} ms per backend"
        )
        for u in units:
            costs = ", ".join(f"{b} {ms:.3f}" for b, ms in u["ms"].items()) or "not timed"
            lines.append(
                f"  {u['index']:<5} {u['nodes']:>5}  {u['first_node'][:28]:<28} "
                f"{u['chosen']:<10} {costs}"
            )
    for backend, cost in decision.get("boundary", {}).items():
        lines.append(
            f"  boundary on {backend}: {cost['dispatch_ms']:.4f} ms per call, "
            f"{cost['copy_ms_per_mb']:.4f} ms per MB"
        )
    lines.extend(f"  note: {note}" for note in decision.get("notes", []))
    return "\n".join(lines)


def _override_target(node: ir.Node, overrides: Mapping[str, str]) -> str | None:
    """The backend an override pins a node to: key = node name, op type, or a regex on the name."""
    for key, backend in overrides.items():
        if key in (name_of(node), node.op_type):
            return backend
    for key, backend in overrides.items():
        try:
            if re.fullmatch(key, name_of(node) or ""):
                return backend
        except re.error:
            continue
    return None


def assign_nodes(
    graph: ir.Graph,
    priority: Sequence[str],
    capabilities: Mapping[str, Mapping[str, Support]],
    *,
    overrides: Mapping[str, str],
    strict: bool,
) -> tuple[dict[str, str], dict[str, dict[str, str]], set[str]]:
    """Give each node the first backend (in priority order) that claims it.

    Returns (node -> backend, node -> {declining backend: reason}, pinned node names).
    Raises PlacementError listing every node that cannot be placed.
    """
    assignment: dict[str, str] = {}
    declined: dict[str, dict[str, str]] = {}
    pinned: set[str] = set()
    problems: list[str] = []
    for node in graph:
        target = _override_target(node, overrides)
        if target is not None:
            answer = capabilities[target][name_of(node)]
            if not answer.claimed:
                problems.append(
                    f"{name_of(node)} ({node.op_type}) is pinned to {target}, "
                    f"which declines it: {answer.reason}"
                )
                continue
            assignment[name_of(node)] = target
            pinned.add(name_of(node))
            continue
        reasons: dict[str, str] = {}
        for backend in priority:
            answer = capabilities[backend][name_of(node)]
            if answer.claimed:
                assignment[name_of(node)] = backend
                break
            reasons[backend] = answer.reason
        declined[name_of(node)] = reasons if name_of(node) in assignment else {}
        if name_of(node) not in assignment:
            why = "; ".join(f"{b}: {r}" for b, r in reasons.items())
            problems.append(
                f"{name_of(node)} ({node.op_type}, domain {node.domain or 'ai.onnx'!r}): "
                f"no backend supports it [{why}]"
            )
        elif strict and assignment[name_of(node)] != priority[0]:
            reason = reasons[priority[0]]
            problems.append(
                f"{name_of(node)} ({node.op_type}) is declined by {priority[0]}: {reason}"
            )
    if problems:
        head = (
            "strict mode: every node must run on " + priority[0]
            if strict
            else "cannot place every node"
        )
        raise PlacementError(f"{head} ({len(problems)} nodes):\n  " + "\n  ".join(problems))
    return assignment, declined, pinned


def build_report(
    model_label: str,
    graph: ir.Graph,
    priority: Sequence[str],
    partitions: Sequence[Partition],
    declined: Mapping[str, dict[str, str]],
    pinned: set[str],
    devices: Mapping[str, list[str]],
    details: Mapping[int, dict[str, Any]] | None = None,
) -> PlacementReport:
    """Summarise a placement for users (str) and tools (to_dict)."""
    flops = {name_of(n): node_flops(n) for n in graph}
    total = sum(flops.values()) or 1
    nodes: list[NodePlacement] = []
    summaries: list[PartitionSummary] = []
    produced_inside: set[str] = set()
    crossing: set[str] = set()
    for p in partitions:
        part_flops = sum(flops[name_of(n)] for n in p.nodes)
        summaries.append(
            PartitionSummary(
                index=p.index,
                backend=p.backend,
                nodes=len(p.nodes),
                flops=part_flops,
                flop_share=part_flops / total,
                inputs=[name_of(v) for v in p.inputs],
                outputs=[name_of(v) for v in p.outputs],
                details=dict((details or {}).get(p.index, {})),
            )
        )
        crossing.update(name_of(v) for v in p.inputs if name_of(v) in produced_inside)
        produced_inside.update(name_of(v) for v in p.outputs)
        for n in p.nodes:
            nodes.append(
                NodePlacement(
                    name=name_of(n),
                    op_type=n.op_type,
                    backend=p.backend,
                    partition=p.index,
                    flops=flops[name_of(n)],
                    declined=dict(declined.get(name_of(n), {})),
                    pinned=name_of(n) in pinned,
                )
            )
    order = {name_of(n): i for i, n in enumerate(graph)}
    nodes.sort(key=lambda placed: order[placed.name])
    used = list(dict.fromkeys([*priority, *(p.backend for p in partitions)]))
    return PlacementReport(
        model=model_label,
        backends=used,
        nodes=nodes,
        partitions=summaries,
        boundary_tensors=len(crossing),
        devices=dict(devices),
    )
