"""The parts of ORT's InferenceSession API beyond run(): provider names and options, OrtValues,
IOBinding, run_async, the profile file. Plain functions and objects that InferenceSession's
own methods call with what they need (composition): nothing here reads a session's private
state, and session.py keeps to loading, placing and running."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import onnx_ir as ir

from ..errors import XinrtError
from ..placement import PlacementReport
from .binding import IOBinding, RunnableSession, run_async
from .ortvalue import OrtValue
from .providers import provider_names


def provider_options(
    backends: Sequence[str], backend_options: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """ORT's get_provider_options(): each provider's options, values as strings."""
    options: dict[str, dict[str, Any]] = {name: {} for name in provider_names(backends)}
    for backend, opts in backend_options.items():
        options[provider_names([backend])[0]].update({k: str(v) for k, v in opts.items()})
    return options


def run_with_ort_values(
    session: RunnableSession,
    output_names: Sequence[str] | None,
    input_dict_ort_values: Mapping[str, OrtValue],
    run_options: Any = None,
) -> list[OrtValue]:
    """ORT's run_with_ort_values(): run() on the OrtValues' arrays, outputs as OrtValues."""
    feeds = {name: value.typed_array() for name, value in input_dict_ort_values.items()}
    return [OrtValue(a) for a in session.run(output_names, feeds, run_options)]


def run_with_iobinding(iobinding: IOBinding, run_options: Any = None) -> None:
    """ORT's run_with_iobinding(): run the binding's session on its bound inputs."""
    iobinding._run(run_options)


def write_profile(records: list[tuple[str, int, int]] | None, prefix: str, start_ns: int) -> str:
    """ORT's end_profiling(): write the recorded partition times (label, start ns, duration ns)
    as a Chrome trace JSON and clear them; returns the file name ("" when profiling is off,
    as ORT does)."""
    if records is None:
        return ""
    path = f"{prefix}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.json"
    events = [
        {
            "name": label,
            "ph": "X",
            "ts": (start - start_ns) / 1e3,
            "dur": duration / 1e3,
            "pid": 0,
            "tid": 0,
            "cat": "partition",
        }
        for label, start, duration in list(records)
    ]
    with open(path, "w") as handle:
        json.dump(events, handle)
    records.clear()
    return path


__all__ = [
    "OrtEpAssignedNode",
    "OrtEpAssignedSubgraph",
    "graph_assignment_info",
    "IOBinding",
    "provider_names",
    "provider_options",
    "run_with_iobinding",
    "run_async",
    "run_with_ort_values",
    "write_profile",
]


RECORD_ASSIGNMENT_KEY = "session.record_ep_graph_assignment_info"


@dataclass(frozen=True)
class OrtEpAssignedNode:
    """One node of an assigned subgraph, as ORT describes it."""

    name: str
    domain: str
    op_type: str


@dataclass(frozen=True)
class OrtEpAssignedSubgraph:
    """One partition: the provider (ORT name of its backend) and its nodes, in graph order."""

    ep_name: str
    nodes: tuple[OrtEpAssignedNode, ...]

    def get_nodes(self) -> list[OrtEpAssignedNode]:
        return list(self.nodes)


def graph_assignment_info(
    report: PlacementReport, graph: ir.Graph, session_config: Mapping[str, str], label: str
) -> list[OrtEpAssignedSubgraph]:
    """ORT's get_provider_graph_assignment_info(): one subgraph per partition. As in ORT, the
    session config entry session.record_ep_graph_assignment_info must be "1" (else Fail)."""
    if session_config.get(RECORD_ASSIGNMENT_KEY) != "1":
        raise XinrtError(
            f"{label}: session configuration entry {RECORD_ASSIGNMENT_KEY!r} must be set to "
            '"1" to retrieve EP graph assignment information (session.placement has it anyway)'
        )
    nodes = {node.name: node for node in graph}
    by_partition: dict[int, list[OrtEpAssignedNode]] = {}
    for placed in report.nodes:
        node = nodes.get(placed.name)
        domain = node.domain if node is not None else ""
        by_partition.setdefault(placed.partition, []).append(
            OrtEpAssignedNode(placed.name, domain, placed.op_type)
        )
    return [
        OrtEpAssignedSubgraph(provider_names([p.backend])[0], tuple(by_partition.get(p.index, [])))
        for p in report.partitions
    ]
