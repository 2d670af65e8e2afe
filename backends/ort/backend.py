"""The ORT backend: placement per node by probing, one ORT session per partition."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.backend import SUPPORTED, Backend, CompileOptions, Device, Support, unsupported
from xinrt.cache import JsonCache
from xinrt.errors import BackendNotFoundError, UnsupportedError
from xinrt.graph_utils import name_of
from xinrt.partition import Partition
from xinrt.providers import EP_PACKAGES, EP_TARGETS

from .probe import probe_key, probe_model, short_reason
from .rules import known_deviation

try:
    from .real_ort import real_onnxruntime as _ort  # never xinrt itself, even when aliased
except ImportError:  # the native backend must work without ORT
    _ort = None

_PROBE_IR_VERSION = 10  # new enough for every opset probed, old enough for every ORT >= 1.17
_PROBE_OPTIONS = CompileOptions(intra_op_num_threads=1)  # probes only create sessions
_PROVIDER_FOR_TARGET = {target: provider for provider, target in EP_TARGETS.items()}


def _plugin_devices(provider: str) -> list[Any]:
    """ORT's devices for an EP that a plugin library registered (none for built-in EPs)."""
    if _ort is None or not hasattr(_ort, "get_ep_devices"):
        return []
    if provider in _ort.get_available_providers():
        return []
    return [d for d in _ort.get_ep_devices() if d.ep_name == provider]


def _provider_name(target: str) -> str:
    if target in _PROVIDER_FOR_TARGET:
        return _PROVIDER_FOR_TARGET[target]
    if _ort is not None:
        names = list(_ort.get_available_providers())
        if hasattr(_ort, "get_ep_devices"):
            names += [d.ep_name for d in _ort.get_ep_devices()]
        for provider in names:
            if provider.lower() in (target.lower(), target.lower() + "executionprovider"):
                return provider
    raise BackendNotFoundError(
        f"unknown ONNX Runtime execution provider {target!r} in 'ort:{target}'; known: "
        + ", ".join(sorted(t for t in _PROVIDER_FOR_TARGET if t))
        + "; a plugin EP library must be registered first (register_ep_library)"
    )


def _session_options(compile_options: CompileOptions, severity: int) -> Any:
    options = _ort.SessionOptions()
    options.intra_op_num_threads = compile_options.intra_op_num_threads
    options.inter_op_num_threads = compile_options.inter_op_num_threads or 1
    options.log_severity_level = severity
    options.graph_optimization_level = _ort.GraphOptimizationLevel(
        {0: 0, 1: 1, 2: 2}.get(compile_options.graph_optimization_level, 99)
    )
    if compile_options.parallel_execution:
        options.execution_mode = _ort.ExecutionMode.ORT_PARALLEL
    for key, value in compile_options.session_config.items():
        options.add_session_config_entry(key, value)
    return options


def _create_session(
    model_bytes: bytes, options: Any, provider: str, provider_options: dict[str, Any] | None = None
) -> Any:
    """An ORT session on exactly one EP: built-in by name, plugin EPs by their devices."""
    if provider != "CPUExecutionProvider":
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    devices = _plugin_devices(provider)
    if devices:
        options.add_provider_for_devices(devices, dict(provider_options or {}))
        return _ort.InferenceSession(model_bytes, options)
    return _ort.InferenceSession(
        model_bytes, options, providers=[(provider, dict(provider_options or {}))]
    )


class OrtExecutable:
    """One ORT InferenceSession; ORT's run() is thread-safe."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._outputs = [o.name for o in session.get_outputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self._outputs, self._session.run(None, feeds)))


class OrtBackend(Backend):
    """ONNX Runtime on one execution provider: `ort` (CPU EP) or `ort:<ep>`."""

    prefers_original_model = True

    def __init__(self, target: str | None = None) -> None:
        self.target = (target or "").lower()
        if self.target == "cpu":
            self.target = ""
        self.name = f"ort:{self.target}" if self.target else "ort"
        self.provider = _provider_name(self.target) if self.target else "CPUExecutionProvider"
        version = _ort.__version__ if _ort is not None else "none"
        self._probes = JsonCache(f"ort-capability-{version}-{self.provider}")

    def devices(self) -> list[Device]:
        if self.unavailable_reason():
            return []
        kind = (
            "cpu"
            if self.provider in ("CPUExecutionProvider", "XnnpackExecutionProvider")
            else "accelerator"
        )
        return [Device(f"{self.provider}", kind, f"onnxruntime {_ort.__version__}")]

    def unavailable_reason(self) -> str:
        if _ort is None:
            return "onnxruntime is not installed; pip install onnxruntime (or xinrt[ort])"
        if self.provider not in _ort.get_available_providers() and not _plugin_devices(
            self.provider
        ):
            package = EP_PACKAGES.get(self.target, "an onnxruntime build with this provider")
            return (
                f"{self.provider} is not in this onnxruntime {_ort.__version__}'s providers "
                f"({', '.join(_ort.get_available_providers())}); install {package}"
            )
        return ""

    def extra_names(self) -> list[str]:
        """`ort:<ep>` names for the non-CPU providers this onnxruntime has (for listings)."""
        if self.target or _ort is None:
            return []
        return [
            f"ort:{EP_TARGETS.get(p, p.replace('ExecutionProvider', '').lower())}"
            for p in _ort.get_available_providers()
            if p not in ("CPUExecutionProvider", "AzureExecutionProvider")
        ]

    def capability(self, graph: ir.Graph) -> dict[str, Support]:
        answers = {name_of(node): self._probe(node, graph, _PROBE_IR_VERSION) for node in graph}
        self._probes.flush()
        return answers

    def _probe(self, node: ir.Node, graph: ir.Graph, ir_version: int) -> Support:
        deviation = known_deviation(node, self.provider)
        if deviation:
            return unsupported(deviation)
        model = probe_model(node, graph, ir_version)
        if isinstance(model, str):
            return unsupported(model)
        key = probe_key(model)
        reason = self._probes.get(key)
        if reason is None:
            reason = self._try_session(model.SerializeToString())
            self._probes.put(key, reason)
        return unsupported(f"ORT {self.provider}: {reason}") if reason else SUPPORTED

    def _try_session(self, model_bytes: bytes) -> str:
        try:
            _create_session(model_bytes, _session_options(_PROBE_OPTIONS, 3), self.provider)
        except Exception as exc:  # ORT raises its own exception types for every refusal
            return short_reason(str(exc))
        return ""

    def compile(self, partition: Partition, options: CompileOptions) -> OrtExecutable:
        model = partition.to_model_proto()
        session_options = _session_options(options, max(options.log_severity_level, 2))
        try:
            session = _create_session(
                model.SerializeToString(), session_options, self.provider, options.backend_options
            )
        except Exception as exc:
            raise UnsupportedError(f"{self.name}: {short_reason(str(exc))}") from exc
        return OrtExecutable(session)
