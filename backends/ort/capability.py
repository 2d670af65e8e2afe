"""Capability from ORT itself, in the model's context: one ORT session on the whole graph with the
EP and the CPU EP both offered, ORT's own per-node assignment, cached on disk per (graph, EP,
ORT version, EP library version, provider options). The one-node probe is only the fallback when
the whole model cannot be loaded that way."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx_ir as ir

from xinrt.backend import SUPPORTED, CompileOptions, Support, unsupported
from xinrt.cache import cache_dir
from xinrt.graph_utils import name_of
from xinrt.ml_types import serialize_value

from .assignment import map_to_graph, profile_prefix, read_assignment
from .probe import short_reason
from .runtime import version
from .session_model import graph_session_model
from .sessions import CPU, create_session, has_assignment_info, missing_provider, session_options

_LARGE = 4096  # initializers above this many elements enter the cache key without values


@dataclass
class CapabilityRun:
    """How the answers of one capability() call were obtained (for reports and doctor)."""

    method: str = ""  # "assignment info", "profiled run", "cache (<method>)", "one-node probe"
    fallback_reason: str = ""  # why the whole-model session could not answer
    seconds: float = 0.0
    nodes_on_ep: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def graph_fingerprint(graph: ir.Graph) -> str:
    """A digest of what decides ORT's assignment: nodes, attributes, types, shapes, small
    constants in full (shapes, axes, zero points); large weights by name, type and shape only.
    An EP takes a node by op, types, shapes, attributes and which inputs are constant, never by
    the values of a large weight, and reading them would cost a copy of every weight."""
    digest = hashlib.sha256()
    for domain, version_ in sorted(graph.opset_imports.items()):
        digest.update(f"opset {domain} {version_}\n".encode())
    for value in [*graph.inputs, *graph.outputs]:
        digest.update(serialize_value(value).SerializeToString(deterministic=True))
    for node in graph:
        digest.update(ir.serde.serialize_node(node).SerializeToString(deterministic=True))
    for name, value in sorted(graph.initializers.items()):
        const = value.const_value
        if const is None:
            continue
        digest.update(f"init {name} {const.dtype} {list(const.shape.numpy())}\n".encode())
        if const.size <= _LARGE:
            digest.update(const.tobytes())
    return digest.hexdigest()[:40]


class AssignmentCache:
    """One JSON file per (graph, EP, ORT version, ...): our node name -> EP, and the method."""

    def __init__(self, key_parts: dict[str, str]) -> None:
        key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:40]
        self.path = cache_dir() / "ort-assignment" / f"{key}.json"
        self.key_parts = key_parts

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return data if data.get("key") == self.key_parts else None

    def store(self, method: str, assignment: dict[str, str]) -> None:
        """Write atomically; a read-only cache folder only costs the next session time."""
        data = {"key": self.key_parts, "method": method, "assignment": assignment}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
            os.replace(tmp, self.path)
        except OSError:
            pass


def whole_model_assignment(
    graph: ir.Graph, provider: str, devices: list[Any], provider_options: dict[str, Any]
) -> tuple[str, dict[str, str]]:
    """(method, our node -> EP) from one ORT session on the whole graph; raises what ORT
    raises when the graph does not load, or RuntimeError when ORT silently left the EP out."""
    level = 0 if provider == CPU else 1  # ORT partitions after its basic (level 1) passes
    options = session_options(
        CompileOptions(intra_op_num_threads=1, graph_optimization_level=level), severity=3
    )
    options.add_session_config_entry("session.disable_prepacking", "1")
    profile = "" if has_assignment_info() or provider == CPU else profile_prefix()
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = profile
    model = graph_session_model(graph)
    try:
        session = create_session(
            model, options, provider, devices, provider_options, cpu_fallback=True
        )
    except Exception as exc:
        if not model.external or "external" not in str(exc).lower():
            raise
        model = graph_session_model(graph, inline_everything=True)  # an ORT that refuses them
        options = session_options(CompileOptions(intra_op_num_threads=1), severity=3)
        session = create_session(
            model, options, provider, devices, provider_options, cpu_fallback=True
        )
    missing = missing_provider(session, provider) if provider != CPU else ""
    if missing:
        raise RuntimeError(missing)
    if provider == CPU:  # every node of a model the CPU EP loads is the CPU EP's
        return "session created", {name_of(n): CPU for n in graph}
    answer = read_assignment(session, graph, profile)
    return answer.method, map_to_graph(answer.records, graph)


def answers_from_assignment(
    graph: ir.Graph, provider: str, assignment: dict[str, str], method: str
) -> dict[str, Support]:
    """Claim exactly the nodes ORT gives `provider` (the CPU EP: every node of a loaded model)."""
    answers: dict[str, Support] = {}
    for node in graph:
        ep = assignment.get(name_of(node), "")
        if ep == provider:
            answers[name_of(node)] = SUPPORTED
        elif ep:
            answers[name_of(node)] = unsupported(
                f"ORT gives it to {ep}, not {provider}, in this model ({method})"
            )
        else:
            answers[name_of(node)] = unsupported(
                f"ORT computes it away at load time; {provider} never runs it ({method})"
            )
    return answers


def capability_key(
    graph: ir.Graph, provider: str, devices: list[Any], provider_options: dict[str, Any]
) -> dict[str, str]:
    """What the cached answer depends on."""
    ep_version = ""
    if devices:
        ep_version = dict(devices[0].ep_metadata).get("version", "")
    return {
        "graph": graph_fingerprint(graph),
        "provider": provider,
        "onnxruntime": version(),
        "ep_library": ep_version,
        "provider_options": json.dumps(provider_options, sort_keys=True, default=str),
        "devices": ",".join(f"{d.device.vendor_id:x}:{d.device.device_id:x}" for d in devices),
        "format": "1",
    }


def cached_assignment(
    graph: ir.Graph, provider: str, devices: list[Any], provider_options: dict[str, Any]
) -> tuple[CapabilityRun, dict[str, str]]:
    """The whole-model assignment, from the disk cache or from ORT (then cached)."""
    started = time.perf_counter()
    cache = AssignmentCache(capability_key(graph, provider, devices, provider_options))
    hit = cache.load()
    if hit is not None:
        run = CapabilityRun(method=f"cache ({hit['method']})")
        assignment = dict(hit["assignment"])
    else:
        method, assignment = whole_model_assignment(graph, provider, devices, provider_options)
        cache.store(method, assignment)
        run = CapabilityRun(method=method)
    run.seconds = time.perf_counter() - started
    run.nodes_on_ep = sum(1 for ep in assignment.values() if ep == provider)
    return run, assignment


def fallback_reason(exc: BaseException) -> str:
    """One line saying why the whole-model session could not answer."""
    return short_reason(str(exc)) or type(exc).__name__


def cache_folder() -> Path:
    """Where the assignment answers live (for `xinrt cache` style listings and tests)."""
    return cache_dir() / "ort-assignment"
