"""Measured placement costs on disk, so a second session times nothing (`xinrt cache ls`).

One entry per (model hash, partition signature, backend, device, host CPU model, threads, xinrt
version). The hashes are structural: node types, attributes, wiring, tensor types and shapes.
Weight values do not change how long a kernel takes, and hashing 500 MB of them would cost more
than the placement saves.

A cost measured while the machine was oversubscribed (1-minute load average above its CPU
count) is trusted for LOADED_MAX_AGE_S only: a session created after that times again, so a
choice made under someone else's load is not kept for good.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import time
from collections.abc import Iterable, Sequence
from typing import Any

import onnx_ir as ir

from .cache import JsonCache
from .graph_utils import name_of
from .version import __version__

CACHE_NAME = "placement-costs"
LOADED_MAX_AGE_S = 3600.0


@functools.cache
def host_cpu() -> str:
    """The CPU model (a cache folder can outlive the machine under it: a VM moved to another
    host, a home folder shared by several), from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "CPU part"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_load() -> float | None:
    """The 1-minute load average per CPU (None where the OS has none)."""
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (AttributeError, OSError):
        return None


def is_stale(record: dict[str, Any], now: float) -> bool:
    """Whether a cached cost was measured on an oversubscribed machine too long ago to keep."""
    load, measured = record.get("load_per_cpu"), record.get("measured_s")
    if not isinstance(load, (int, float)) or not isinstance(measured, (int, float)):
        return False
    return load > 1.0 and now - measured > LOADED_MAX_AGE_S


def _describe_value(value: ir.Value) -> str:
    shape = "?" if value.shape is None else ",".join(str(d) for d in value.shape)
    return f"{name_of(value)}:{value.dtype}:[{shape}]"


def nodes_signature(nodes: Iterable[ir.Node], inputs: Sequence[ir.Value] = ()) -> str:
    """A hash of nodes (op, attributes, wiring; constant values by type and shape only) and
    of the types and shapes of the values fed to them."""
    digest = hashlib.sha256()
    for value in inputs:
        digest.update(_describe_value(value).encode())
    for node in nodes:
        digest.update(f"|{node.domain}:{node.op_type}:{name_of(node)}".encode())
        for read in node.inputs:
            described = "-" if read is None else _describe_value(read)
            if read is not None and read.const_value is not None:
                described += ":const"
            digest.update(described.encode())
        for value in node.outputs:
            digest.update(f">{name_of(value)}".encode())
        for attr_name, attr in sorted(node.attributes.items()):
            digest.update(f"@{attr_name}={_attribute_text(attr)}".encode())
    return digest.hexdigest()[:24]


def _attribute_text(attr: Any) -> str:
    value = attr.value
    if isinstance(value, ir.Graph):
        return "graph:" + nodes_signature(value, list(value.inputs))
    if hasattr(value, "dtype") and hasattr(value, "shape") and not isinstance(value, str):
        return f"tensor:{value.dtype}:{list(value.shape)}"
    return repr(value)


def environment_key(
    backend: str, devices: Sequence[str], threads: int, precisions: Sequence[str] = ()
) -> str:
    """The part of a key that is not the model: backend, its devices, threads, the precision
    asked of each backend (bf16 and fp32 times differ), versions."""
    key: list[Any] = [backend, list(devices), threads, os.cpu_count(), host_cpu(), __version__]
    if any(precisions):  # keys of sessions that ask no precision stay as they were
        key.append(list(precisions))
    return json.dumps(key)


class CostCache:
    """Seconds measured per (model, partition, backend environment)."""

    def __init__(self) -> None:
        self._store = JsonCache(CACHE_NAME)

    @staticmethod
    def key(model: str, part: str, environment: str) -> str:
        return hashlib.sha256(f"{model}|{part}|{environment}".encode()).hexdigest()[:32]

    def get(self, model: str, part: str, environment: str) -> dict[str, Any] | None:
        text = self._store.get(self.key(model, part, environment))
        if text is None:
            return None
        try:
            record = json.loads(text)
        except ValueError:
            return None
        if not isinstance(record, dict) or is_stale(record, time.time()):
            return None
        return record

    def put(self, model: str, part: str, environment: str, record: dict[str, Any]) -> None:
        stamped = {
            **record,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "measured_s": time.time(),
            "load_per_cpu": machine_load(),
        }
        self._store.put(self.key(model, part, environment), json.dumps(stamped))

    def flush(self) -> None:
        self._store.flush()


def cost_entries() -> list[dict[str, Any]]:
    """Every cached placement cost (for `xinrt cache ls`), oldest first."""
    store = JsonCache(CACHE_NAME)
    found = []
    for key, text in store.items():
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append({"key": key, **record})
    return sorted(found, key=lambda r: str(r.get("created", "")))
