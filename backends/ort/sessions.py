"""Creating ORT sessions on one execution provider, and checking that ORT really used it."""

from __future__ import annotations

from typing import Any

from xinrt.backend import CompileOptions

from .runtime import onnxruntime
from .session_model import SessionModel

CPU = "CPUExecutionProvider"
RECORD_ASSIGNMENT = "session.record_ep_graph_assignment_info"
DISABLE_CPU_FALLBACK = "session.disable_cpu_ep_fallback"


def has_assignment_info() -> bool:
    """Whether this ORT can tell which EP each node was given (ORT >= 1.24)."""
    ort = onnxruntime()
    return ort is not None and hasattr(ort.InferenceSession, "get_provider_graph_assignment_info")


def session_options(compile_options: CompileOptions, severity: int) -> Any:
    """ORT SessionOptions from the options a partition is compiled with."""
    ort = onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = compile_options.intra_op_num_threads
    options.inter_op_num_threads = compile_options.inter_op_num_threads or 1
    options.log_severity_level = severity
    options.graph_optimization_level = ort.GraphOptimizationLevel(
        {0: 0, 1: 1, 2: 2}.get(compile_options.graph_optimization_level, 99)
    )
    if compile_options.parallel_execution:
        options.execution_mode = ort.ExecutionMode.ORT_PARALLEL
    for key, value in compile_options.session_config.items():
        options.add_session_config_entry(key, value)
    return options


def create_session(
    model: SessionModel,
    options: Any,
    provider: str,
    devices: list[Any],
    provider_options: dict[str, Any] | None = None,
    *,
    cpu_fallback: bool = False,
) -> Any:
    """An ORT session with `provider` (by its EP devices when ORT lists them, else by name);
    with `cpu_fallback` ORT may give nodes to the CPU EP too, as raw ORT does."""
    ort = onnxruntime()
    model.attach(options)
    if has_assignment_info() and provider != CPU:  # the CPU EP takes all: nothing to check
        options.add_session_config_entry(RECORD_ASSIGNMENT, "1")
    opts = {k: str(v) for k, v in (provider_options or {}).items()}
    if provider != CPU and not cpu_fallback:
        options.add_session_config_entry(DISABLE_CPU_FALLBACK, "1")
    if devices and provider != CPU:
        options.add_provider_for_devices(devices, opts)
        return ort.InferenceSession(model.model, options)
    providers: list[Any] = [(provider, dict(provider_options or {}))]
    if provider != CPU and cpu_fallback:
        providers.append(CPU)
    return ort.InferenceSession(model.model, options, providers=providers)


def assigned_nodes(session: Any) -> list[tuple[str, str, str]]:
    """(EP, ORT node name, op type) for every node of the session, from ORT's own record."""
    return [
        (subgraph.ep_name, node.name, node.op_type)
        for subgraph in session.get_provider_graph_assignment_info()
        for node in subgraph.get_nodes()
    ]


def missing_provider(session: Any, provider: str) -> str:
    """Why the session does not really run on `provider`, or "" when it does."""
    if provider not in session.get_providers():
        return (
            f"ORT built the session without {provider} (it runs on "
            f"{', '.join(session.get_providers())}); the EP failed to load or found no device"
        )
    if provider != CPU and has_assignment_info():
        records = assigned_nodes(session)
        if records and not any(ep == provider for ep, _, _ in records):
            return f"ORT assigned no node of the session to {provider}"
    return ""
