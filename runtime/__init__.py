"""xinrt: one ONNX inference API over pluggable backends (native CPU, ONNX Runtime EPs, NPUs).

sess = xinrt.InferenceSession("model.onnx", backends=["cpu", "ort", "reference"])
outputs = sess.run(None, {"input": array})
print(sess.placement)
"""

from __future__ import annotations

# ruff: noqa: E402 (onnx_ir's sympy is deferred before the imports below import onnx_ir)
from typing import Any

from .deferred_imports import defer_onnx_ir_sympy

defer_onnx_ir_sympy()

from .backend import (
    Backend,
    CompileOptions,
    Device,
    Executable,
    Support,
    SupportLevel,
    available_backends,
)
from .errors import (
    BackendNotFoundError,
    BackendUnavailableError,
    ExecutionError,
    ExternalDataError,
    InvalidArgumentError,
    InvalidInputError,
    InvalidModelError,
    ModelNotFoundError,
    PlacementError,
    UnsupportedError,
    XinrtError,
)
from .options import ExecutionMode, GraphOptimizationLevel, SessionOptions
from .ort_compat.api import (
    RunOptions,
    disable_telemetry_events,
    enable_telemetry_events,
    get_all_providers,
    get_available_providers,
    get_build_info,
    get_device,
    get_ep_devices,
    get_version_string,
    preload_dlls,
    set_default_logger_severity,
    set_default_logger_verbosity,
    set_global_thread_pool_sizes,
    set_seed,
)
from .ort_compat.binding import IOBinding
from .ort_compat.objects import (
    ExecutionOrder,
    OrtAllocatorType,
    OrtArenaCfg,
    OrtDevice,
    OrtDeviceVendorId,
    OrtMemoryInfo,
    OrtMemType,
    OrtSparseFormat,
)
from .ort_compat.ortvalue import OrtValue

# ONNX Runtime's exception names, so `except ort.Fail` works with `import xinrt as ort`
from .ort_compat.pybind_state import (
    EPFail,
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    NoSuchFile,
    RuntimeException,
)
from .placement import PlacementReport
from .session import InferenceSession, ModelMetadata, NodeArg
from .version import __version__


def install_as_onnxruntime() -> None:
    """Make `import onnxruntime` in this process resolve to xinrt (e.g. in a notebook)."""
    from .ort_compat.drop_in import install

    install()


def backend_info() -> dict[str, dict[str, Any]]:
    """Every installed backend: its devices, or why it cannot run here."""
    from .backend import backend_names, get_backend

    info: dict[str, dict[str, Any]] = {}
    for base in backend_names():
        try:
            backend = get_backend(base)
        except Exception as exc:  # a broken plugin must not hide the others
            info[base] = {"available": False, "devices": [], "reason": f"failed to load: {exc}"}
            continue
        names = [base, *getattr(backend, "extra_names", lambda: [])()]
        for name in names:
            instance = get_backend(name)
            devices = instance.devices()
            info[name] = {
                "available": bool(devices),
                "devices": [{"name": d.name, "kind": d.kind, "detail": d.detail} for d in devices],
                "reason": "" if devices else instance.unavailable_reason(),
            }
    return info


__all__ = [
    "ExecutionOrder",
    "OrtAllocatorType",
    "OrtArenaCfg",
    "OrtDevice",
    "OrtDeviceVendorId",
    "OrtMemType",
    "OrtMemoryInfo",
    "OrtSparseFormat",
    "disable_telemetry_events",
    "enable_telemetry_events",
    "set_global_thread_pool_sizes",
    "EPFail",
    "ExecutionMode",
    "Fail",
    "IOBinding",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "NoSuchFile",
    "OrtValue",
    "RunOptions",
    "RuntimeException",
    "get_all_providers",
    "get_available_providers",
    "get_build_info",
    "get_device",
    "get_ep_devices",
    "preload_dlls",
    "set_seed",
    "get_version_string",
    "install_as_onnxruntime",
    "set_default_logger_severity",
    "set_default_logger_verbosity",
    "Backend",
    "BackendNotFoundError",
    "BackendUnavailableError",
    "CompileOptions",
    "Device",
    "Executable",
    "ExecutionError",
    "ExternalDataError",
    "GraphOptimizationLevel",
    "InferenceSession",
    "InvalidArgumentError",
    "InvalidInputError",
    "InvalidModelError",
    "ModelMetadata",
    "ModelNotFoundError",
    "NodeArg",
    "PlacementError",
    "PlacementReport",
    "SessionOptions",
    "Support",
    "SupportLevel",
    "UnsupportedError",
    "XinrtError",
    "__version__",
    "available_backends",
    "backend_info",
]
