"""Which EP ORT gives each node of a whole model, read from ORT itself, mapped to our names.

ORT reports nodes of its optimized graph: layout transformation renames nodes it moves to NHWC
(`<name>_token_<n>`), fusions name the fused node after one of their parts or drop nodes into a
neighbour's kernel, and constant folding removes nodes. `map_to_graph` maps ORT's names back:
exact name, else a name of ours followed by a separator; a node of ours that ORT removed goes
with the nearest mapped node it feeds (the kernel it was fused into), else the one feeding it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.graph_utils import name_of, node_reads

from .sessions import assigned_nodes, has_assignment_info

_SEPARATOR = re.compile(r"[_/:.\-]")


@dataclass
class OrtAssignment:
    """ORT's answer: per ORT node (EP, name, op type), and how it was obtained."""

    method: str  # "assignment info" (ORT >= 1.24) or "profiled run"
    records: list[tuple[str, str, str]]


def read_assignment(session: Any, graph: ir.Graph, profile_file: str = "") -> OrtAssignment:
    """ORT's per-node EP assignment: from get_provider_graph_assignment_info where this ORT has
    it, else from the profile of one run on seeded random inputs (`profile_file` set)."""
    if has_assignment_info() and not profile_file:
        return OrtAssignment("assignment info", assigned_nodes(session))
    session.run(None, random_feeds(graph))
    path = session.end_profiling()
    try:
        with open(path) as handle:
            events = json.load(handle)
    finally:
        os.unlink(path)
    records = [
        (e["args"]["provider"], e["name"][: -len("_kernel_time")], e["args"].get("op_name", ""))
        for e in events
        if e.get("cat") == "Node"
        and e.get("name", "").endswith("_kernel_time")
        and "provider" in e.get("args", {})
    ]
    return OrtAssignment("profiled run", list(dict.fromkeys(records)))


def profile_prefix() -> str:
    """A private file prefix for ORT's profile of a capability run."""
    return os.path.join(tempfile.mkdtemp(prefix="xinrt-ort-profile-"), "capability")


def random_feeds(graph: ir.Graph) -> dict[str, np.ndarray]:
    """Seeded random inputs for the graph's inputs (symbolic dims = 1)."""
    rng = np.random.default_rng(0)
    feeds: dict[str, np.ndarray] = {}
    for value in graph.inputs:
        if value.dtype is None or value.shape is None:
            raise ValueError(f"input {name_of(value)!r} has no static type for a profiled run")
        shape = [d if isinstance(d, int) else 1 for d in value.shape]
        dtype = value.dtype.numpy()
        if dtype.kind == "f":
            feeds[name_of(value)] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind in "iu":
            feeds[name_of(value)] = rng.integers(0, 2, shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[name_of(value)] = rng.integers(0, 2, shape).astype(bool)
        else:
            raise ValueError(f"input {name_of(value)!r}: no random feed for {dtype}")
    return feeds


def _our_name(ort_name: str, ours: set[str]) -> str:
    """The node of ours an ORT node name stands for, or "" (a node ORT created)."""
    if ort_name in ours:
        return ort_name
    best = ""
    for match in _SEPARATOR.finditer(ort_name):
        prefix = ort_name[: match.start()]
        if prefix in ours and len(prefix) > len(best):
            best = prefix
    return best


def map_to_graph(records: list[tuple[str, str, str]], nodes: Iterable[ir.Node]) -> dict[str, str]:
    """Our node name -> the EP ORT runs it on ("" for a node ORT computed away at load time,
    e.g. constant-folded with nothing downstream to run)."""
    nodes = list(nodes)
    ours = {name_of(n): n for n in nodes}
    by_name: dict[str, dict[str, str]] = {}  # our name -> {EP: ORT op type}
    for ep, ort_name, op_type in records:
        mine = _our_name(ort_name, set(ours))
        if mine:
            by_name.setdefault(mine, {})[ep] = op_type
    eps: dict[str, str] = {}
    for name, found in by_name.items():
        same_op = [ep for ep, op in found.items() if op == ours[name].op_type]
        eps[name] = (same_op or list(found))[0]
    consumers: dict[str, list[ir.Node]] = {name: [] for name in ours}
    producers: dict[str, list[ir.Node]] = {name: [] for name in ours}
    made_by = {v: n for n in nodes for v in n.outputs}
    for node in nodes:
        for value in node_reads(node):
            if value in made_by:
                producer = made_by[value]
                consumers[name_of(producer)].append(node)
                producers[name_of(node)].append(producer)
    result = dict(eps)
    for name in ours:
        if name not in eps:
            result[name] = _nearest(name, consumers, eps) or _nearest(name, producers, eps)
    return result


def _nearest(start: str, edges: dict[str, list[ir.Node]], eps: dict[str, str]) -> str:
    """The EP of the closest mapped node along `edges` (breadth first), or ""."""
    queue = deque([start])
    seen = {start}
    while queue:
        for node in edges[queue.popleft()]:
            name = name_of(node)
            if name in eps:
                return eps[name]
            if name not in seen:
                seen.add(name)
                queue.append(name)
    return ""
