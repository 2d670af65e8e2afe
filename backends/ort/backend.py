"""The ORT backend: capability from ORT's own whole-model assignment, one session per partition."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.backend import (
    SUPPORTED,
    Backend,
    CompileOptions,
    Device,
    Support,
    SupportLevel,
    precision_not_applied,
    unsupported,
)
from xinrt.cache import JsonCache
from xinrt.errors import BackendNotFoundError, UnsupportedError
from xinrt.graph_utils import name_of
from xinrt.ort_compat.providers import EP_PACKAGES, EP_TARGETS
from xinrt.partition import Partition

from . import devices as ep_devices
from .assignment import map_to_graph
from .capability import CapabilityRun, answers_from_assignment, cached_assignment, fallback_reason
from .doctor import diagnose
from .plugins import installed_plugin_packages
from .probe import probe_model, short_reason
from .rules import crashes_ort, known_deviation
from .runtime import onnxruntime
from .session_model import SessionModel, build_session_model, proto_session_model
from .sessions import CPU, assigned_nodes, create_session, has_assignment_info, missing_provider
from .sessions import session_options as _session_options

_ort = onnxruntime()  # the real onnxruntime (never xinrt itself), or None

_PROBE_IR_VERSION = 10  # new enough for every opset probed, old enough for every ORT >= 1.17
_PROBE_OPTIONS = CompileOptions(intra_op_num_threads=1)  # probes only create sessions
_PROVIDER_FOR_TARGET = {target: provider for provider, target in EP_TARGETS.items()}
_MAYBE = Support(SupportLevel.MAYBE)
_COMPILE_CHECKS = "whole-model compile"  # capability answered by compiling the whole model


def _split_target(target: str) -> tuple[str, int | None]:
    """`webgpu:1` -> ("webgpu", 1); `webgpu` -> ("webgpu", None)."""
    ep, _, index = target.partition(":")
    if not index:
        return ep, None
    if not index.isdigit():
        raise BackendNotFoundError(
            f"'ort:{target}': the part after the EP must be a device index (e.g. 'ort:{ep}:0')"
        )
    return ep, int(index)


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


def _target_for(provider: str) -> str:
    return EP_TARGETS.get(provider, provider.replace("ExecutionProvider", "").lower())


class OrtExecutable:
    """One ORT InferenceSession; ORT's run() is thread-safe."""

    def __init__(self, session: Any, model: SessionModel, report: dict[str, Any]) -> None:
        self._session = session
        self._model = model  # ORT reads the in-memory initializers for the session's lifetime
        self._outputs = [o.name for o in session.get_outputs()]
        self.report = report
        # On the CPU EP, the binding's run without the Python wrapper's checks, which xinrt's
        # feed check already made (a fifth of a small model's per-run cost). Other EPs keep
        # the wrapper: it owns EP-failure fallback and graph-capture rules.
        binding = getattr(session, "_sess", None)
        direct = binding is not None and session.get_providers() == [CPU]
        self._direct_run = getattr(binding, "run", None) if direct else None

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._direct_run is not None:
            return dict(zip(self._outputs, self._direct_run(self._outputs, feeds, None)))
        return dict(zip(self._outputs, self._session.run(None, feeds)))


class OrtBackend(Backend):
    """ONNX Runtime on one execution provider: `ort` (CPU EP), `ort:<ep>`, `ort:<ep>:<device>`."""

    prefers_original_model = True

    def __init__(self, target: str | None = None) -> None:
        installed_plugin_packages()  # onnxruntime-ep-* packages answer to ort:<ep> with no setup
        self.target = (target or "").lower()
        if self.target == "cpu":
            self.target = ""
        self.ep_target, self.device_index = _split_target(self.target)
        self.name = f"ort:{self.target}" if self.target else "ort"
        self.provider = _provider_name(self.ep_target) if self.ep_target else CPU
        version = _ort.__version__ if _ort is not None else "none"
        self._probes = JsonCache(f"ort-capability-{version}-{self.provider}")
        self.last_capability = CapabilityRun()

    # -- devices --------------------------------------------------------------------------

    def _selected_devices(self) -> list[Any]:
        """ORT's EP devices the sessions use (none for the CPU EP and EPs ORT lists none for)."""
        if self.provider == CPU:
            return []
        return ep_devices.select(self.provider, self.device_index)

    def devices(self) -> list[Device]:
        if self.unavailable_reason():
            return []
        listed = ep_devices.ep_devices(self.provider) if self.provider != CPU else []
        if listed:
            indices = [self.device_index] if self.device_index is not None else range(len(listed))
            return [ep_devices.as_device(self.provider, i, listed[i]) for i in indices]
        kind = "cpu" if self.provider in (CPU, "XnnpackExecutionProvider") else "accelerator"
        return [Device(self.provider, kind, f"onnxruntime {_ort.__version__}")]

    def unavailable_reason(self) -> str:
        if _ort is None:
            return "onnxruntime is not installed; pip install onnxruntime (or xinrt[ort])"
        listed = ep_devices.ep_devices(self.provider) if self.provider != CPU else []
        if self.provider not in _ort.get_available_providers() and not listed:
            package = EP_PACKAGES.get(self.ep_target, "an onnxruntime build with this provider")
            return (
                f"{self.provider} is not in this onnxruntime {_ort.__version__}'s providers "
                f"({', '.join(_ort.get_available_providers())}) and ORT lists no device for it; "
                f"install {package}, then see `xinrt backend doctor {self.name}`"
            )
        if self.device_index is not None and self.device_index >= len(listed):
            return (
                f"{self.name}: ORT lists {len(listed)} device(s) for {self.provider}; "
                f"use an index below {len(listed)} (`xinrt backends` shows them)"
            )
        return ""

    def extra_names(self) -> list[str]:
        """`ort:<ep>` names (and `ort:<ep>:<i>` where ORT lists several devices) for listings."""
        if self.target or _ort is None:
            return []
        providers = list(_ort.get_available_providers())
        if hasattr(_ort, "get_ep_devices"):
            providers += [d.ep_name for d in _ort.get_ep_devices()]
        names: list[str] = []
        for provider in dict.fromkeys(providers):
            if provider in (CPU, "AzureExecutionProvider"):
                continue
            names.append(f"ort:{_target_for(provider)}")
            count = len(ep_devices.ep_devices(provider))
            names += [f"ort:{_target_for(provider)}:{i}" for i in range(count) if count > 1]
        return names

    def doctor(self) -> list[tuple[str, str]]:
        """(what is missing, how to fix it) for this backend; empty when it runs here."""
        return diagnose(self)

    # -- for the ORT-compatible API (xinrt.ort_compat asks through get_backend("ort")) -----

    def ep_devices(self) -> list[Any]:
        """onnxruntime's `get_ep_devices()`, or [] when ORT is absent or has none."""
        if _ort is None or not hasattr(_ort, "get_ep_devices"):
            return []
        return list(_ort.get_ep_devices())

    def set_log_severity(self, severity: int) -> None:
        """onnxruntime's `set_default_logger_severity` (0 verbose .. 4 fatal), when installed."""
        if _ort is not None:
            _ort.set_default_logger_severity(int(severity))

    # -- capability -----------------------------------------------------------------------

    def capability(self, graph: ir.Graph) -> dict[str, Support]:
        crashing = {name_of(n): reason for n in graph if (reason := crashes_ort(n))}
        try:  # provider options are not known before compile: ORT's defaults are asked
            if crashing:  # ORT must never see these nodes: not even in the whole model
                raise UnsupportedError(f"{len(crashing)} node(s) would crash ORT")
            run, assignment = cached_assignment(graph, self.provider, self._selected_devices(), {})
            answers = answers_from_assignment(graph, self.provider, assignment, run.method)
        except Exception as exc:  # ORT refuses the whole model: ask node by node instead
            run = CapabilityRun(method="one-node probe", fallback_reason=fallback_reason(exc))
            answers = {
                name_of(node): unsupported(crashing[name_of(node)])
                if name_of(node) in crashing
                else self._probe(node, graph)
                for node in graph
            }
            self._probes.flush()
        self.last_capability = run
        for node in graph:
            deviation = known_deviation(node, self.provider)
            if deviation:  # ORT runs it, but computes it wrongly: never claimed
                answers[name_of(node)] = unsupported(deviation)
        return answers

    def capability_of_whole_model(self, graph: ir.Graph) -> dict[str, Support]:
        """Alone, the session compiles the whole model anyway, and ORT's load of it answers for
        every node at once: "maybe" for each node (compile declines what ORT refuses, naming
        the nodes from capability()), "no" for the nodes ORT crashes on or gets wrong."""
        answers: dict[str, Support] = {}
        for node in graph:
            reason = crashes_ort(node) or known_deviation(node, self.provider)
            answers[name_of(node)] = unsupported(reason) if reason else _MAYBE
        self.last_capability = CapabilityRun(method=_COMPILE_CHECKS)
        return answers

    def _probe(self, node: ir.Node, graph: ir.Graph) -> Support:
        built = probe_model(node, graph, _PROBE_IR_VERSION)
        if isinstance(built, str):
            return unsupported(built)
        reason = self._probes.get(built.key)
        if reason is None:
            reason = self._try_session(built.model.SerializeToString())
            self._probes.put(built.key, reason)
        if not reason:
            return SUPPORTED
        why = self.last_capability.fallback_reason or "whole model not loadable"
        return unsupported(f"ORT {self.provider} (one-node probe; {why}): {reason}")

    def _try_session(self, model_bytes: bytes) -> str:
        try:
            create_session(
                SessionModel(model_bytes),
                _session_options(_PROBE_OPTIONS, 3),
                self.provider,
                self._selected_devices(),
            )
        except Exception as exc:  # ORT raises its own exception types for every refusal
            return short_reason(str(exc))
        return ""

    # -- compile --------------------------------------------------------------------------

    def compile(self, partition: Partition, options: CompileOptions) -> OrtExecutable:
        model = _partition_model(partition)
        devices = self._selected_devices()
        session_options = _session_options(options, max(options.log_severity_level, 2))
        try:
            session = create_session(
                model, session_options, self.provider, devices, options.backend_options
            )
        except Exception as exc:
            reasons = self._nodes_ort_keeps_on_cpu(partition, model, options)
            if not reasons and self.last_capability.method == _COMPILE_CHECKS:
                reasons = self._nodes_declined(partition)
            raise UnsupportedError(
                f"{self.name}: {short_reason(str(exc))}", node_reasons=reasons
            ) from exc
        missing = missing_provider(session, self.provider)
        if missing:  # never a silent CPU-only session under an accelerator's name
            raise UnsupportedError(f"{self.name}: {missing}")
        report: dict[str, Any] = {
            "ep": self.provider,
            **precision_not_applied(
                self.name,
                options.precision,
                "ORT has no such session option; an EP's own provider options, e.g. "
                "TensorRT's trt_fp16_enable, set reduced precision",
            ),
        }
        if devices:
            listed = ep_devices.ep_devices(self.provider)
            index = self.device_index if self.device_index is not None else 0
            report["device"] = ep_devices.as_device(self.provider, index, listed[index]).name
        if self.last_capability.method:
            report["capability"] = self.last_capability.method
        return OrtExecutable(session, model, report)

    def _nodes_declined(self, partition: Partition) -> dict[str, str]:
        """After "maybe" answers: the nodes capability() declines (whole-model assignment, or
        one-node probes where ORT refuses the whole model); empty when it declines none."""
        graph = partition.nodes[0].graph if partition.nodes else None
        if graph is None:
            return {}
        answers = self.capability(graph)
        inside = {name_of(n) for n in partition.nodes}
        return {n: a.reason for n, a in answers.items() if n in inside and not a.claimed}

    def _nodes_ort_keeps_on_cpu(
        self, partition: Partition, model: SessionModel, options: CompileOptions
    ) -> dict[str, str]:
        """When the EP-only session fails: the nodes ORT gives the CPU EP inside this partition
        (declined alone, so the rest stays on the EP); empty if that cannot be told."""
        if self.provider == CPU or not has_assignment_info():
            return {}
        try:
            session = create_session(
                model,
                _session_options(options, 3),
                self.provider,
                self._selected_devices(),
                options.backend_options,
                cpu_fallback=True,
            )
        except Exception:
            return {}
        assignment = map_to_graph(assigned_nodes(session), partition.nodes)
        return {
            name: f"ORT gives it to {ep or 'no EP (computed at load)'}, not {self.provider}, "
            "inside this partition"
            for name, ep in assignment.items()
            if ep != self.provider
        }


def _partition_model(partition: Partition) -> SessionModel:
    """The partition as ORT input: the original model when it is all of it, else its nodes
    with the weights handed over in memory."""
    if partition.given_model is not None:  # the file or bytes, as raw ORT would be given them
        return SessionModel(partition.given_model)
    if partition.whole_model is not None:
        return proto_session_model(partition.whole_model)
    return build_session_model(
        partition.nodes,
        partition.inputs,
        partition.outputs,
        partition.initializers,
        partition.opset_imports,
        partition.ir_version,
        name=f"xinrt_partition_{partition.index}",
    )
