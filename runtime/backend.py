"""The backend contract (devices, capability, compile) and the entry-point registry.

A backend is a class registered under the entry-point group ``xinrt.backends``; built-ins
register the same way as third-party plugins. The name a user types is ``<entry>`` or
``<entry>:<target>`` (``ort:cuda``, ``rknn:rk3588``); the class is called with the target.
"""

from __future__ import annotations

import difflib
import enum
import functools
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import BackendNotFoundError, BackendUnavailableError

if TYPE_CHECKING:
    import onnx_ir as ir

    from .partition import Partition

ENTRY_POINT_GROUP = "xinrt.backends"


@dataclass(frozen=True)
class Device:
    """A piece of hardware a backend can use now; `kind` is cpu, gpu, npu or simulator."""

    name: str
    kind: str = "cpu"
    detail: str = ""


class SupportLevel(enum.Enum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"  # placed, but compile() may still decline it with UnsupportedError


@dataclass(frozen=True)
class Support:
    """A backend's answer for one node: yes, no with a one-line reason, or maybe-until-compiled."""

    level: SupportLevel
    reason: str = ""

    @property
    def claimed(self) -> bool:
        return self.level is not SupportLevel.NO


SUPPORTED = Support(SupportLevel.YES)


def precision_not_applied(backend: str, precision: str, hint: str = "") -> dict[str, Any]:
    """Report entries of a backend with no precision setting (it computes every node in the
    model's own types) when a reduced precision was asked of it; empty when none was."""
    if precision in ("", "fp32"):
        return {}
    note = f"{backend}: precision {precision} asked, computing in the model's own types"
    return {"precision": "model types", "precision_note": note + (f" ({hint})" if hint else "")}


def unsupported(reason: str) -> Support:
    """A 'no' with the reason the placement report shows."""
    return Support(SupportLevel.NO, reason)


@dataclass(frozen=True)
class CompileOptions:
    """What a backend may need from the session's options when it compiles a partition."""

    intra_op_num_threads: int = 0  # 0 = the backend's default
    graph_optimization_level: int = 99
    log_severity_level: int = 2
    backend_options: dict[str, Any] = field(default_factory=dict)  # e.g. ORT provider options
    inter_op_num_threads: int = 0
    parallel_execution: bool = False  # ORT's ExecutionMode.ORT_PARALLEL
    session_config: dict[str, str] = field(default_factory=dict)  # ORT session config entries
    precision: str = ""  # "fp32" | "fp16" | "int8"; "" = the backend's default
    calibration_data: list[dict[str, Any]] | None = None  # feed dicts for int8 calibration


class Executable(Protocol):
    """A compiled partition; run() must be safe to call from several threads at once.

    An executable may also carry `report: dict` (e.g. the device it runs on, its precision and
    its verified error against the reference); the placement report shows it per partition."""

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


class Backend:
    """Base class of every backend. Subclasses set `name` and implement the three questions."""

    name: str = ""
    # True for a backend that compiles the model as given when one partition holds all of it
    # (Partition.whole_model; ORT, whose own optimizer then sees the original graph). The session
    # keeps the parsed model only for such backends: it would otherwise hold the weights twice.
    prefers_original_model: bool = False
    # True for a backend too slow to time on more than what nothing else runs (the reference):
    # "fastest" placement only gives it nodes no other backend claims.
    last_resort: bool = False

    def devices(self) -> list[Device]:
        """The hardware this backend sees now; empty means unusable (see unavailable_reason)."""
        raise NotImplementedError

    def unavailable_reason(self) -> str:
        """Why devices() is empty, with what to do about it; "" when the backend is usable."""
        return ""

    def capability(self, graph: ir.Graph) -> dict[str, Support]:
        """For every top-level node of `graph` (keyed by node name): can this backend run it?"""
        raise NotImplementedError

    def capability_of_whole_model(self, graph: ir.Graph) -> dict[str, Support]:
        """capability() when this backend is the only one the session involves, so it will
        compile all of `graph` (or the model as given): a backend whose compile is the cheaper
        check may answer MAYBE and decline at compile. Default: capability()."""
        return self.capability(graph)

    def compile(self, partition: Partition, options: CompileOptions) -> Executable:
        """Build an Executable for the partition, once per session."""
        raise NotImplementedError


@functools.lru_cache(maxsize=1)
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def backend_names() -> list[str]:
    """Names of the installed backend entry points (without targets)."""
    return sorted(_entry_points())


@functools.cache
def get_backend(name: str) -> Backend:
    """The backend instance for a user-typed name such as ``cpu`` or ``ort:cuda`` (cached)."""
    base, _, target = name.partition(":")
    entry = _entry_points().get(base)
    if entry is None:
        known = backend_names()
        hint = difflib.get_close_matches(base, known, n=1)
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise BackendNotFoundError(
            f"unknown backend {name!r}; installed backends: {', '.join(known)}.{suggestion}"
        )
    cls = entry.load()
    backend = cls(target or None)
    if not isinstance(backend, Backend):
        raise BackendNotFoundError(
            f"entry point {base!r} ({entry.value}) does not give an xinrt Backend"
        )
    return backend


def available_backends() -> list[str]:
    """Installed backends that can run here now (ORT execution providers listed as ort:<ep>)."""
    names: list[str] = []
    for base in backend_names():
        backend = get_backend(base)
        if backend.devices():
            names.append(base)
        names.extend(getattr(backend, "extra_names", lambda: [])())
    return names


def require_available(backend: Backend) -> None:
    """Raise BackendUnavailableError, with the backend's own reason, when it cannot run here."""
    if not backend.devices():
        raise BackendUnavailableError(
            f"backend {backend.name!r} is not usable here: {backend.unavailable_reason()}"
        )
