"""xinrt standing in for `onnxruntime.capi.onnxruntime_pybind11_state` (and `_pybind_state`).

ORT's exception names map onto xinrt's errors, so `except ort.capi...Fail` works: every xinrt
error is a `Fail`, the narrower names map to the xinrt class of the same meaning. The classes
and functions programs and ORT's own tests import are here too: working ones (sessions,
options, OrtValue, OrtValueVector, SessionIOBinding, OrtDevice, OrtMemoryInfo ...), and the
rest of ORT's names import fine and raise `NotImplemented` (an UnsupportedError) when used.

`xinrt.capi.onnxruntime_pybind11_state` re-exports this module by absolute name (with
`sys.modules["onnxruntime"] = xinrt` that file is also loaded as
`onnxruntime.capi.onnxruntime_pybind11_state`; the drop-in registers this module itself).
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import (
    BackendUnavailableError,
    ExecutionError,
    InvalidArgumentError,
    InvalidModelError,
    ModelNotFoundError,
    UnsupportedError,
    XinrtError,
)
from ..options import ExecutionMode, GraphOptimizationLevel, SessionOptions
from ..session import InferenceSession, ModelMetadata, NodeArg
from .api import (
    RunOptions,
    disable_telemetry_events,
    enable_telemetry_events,
    get_all_providers,
    get_available_providers,
    get_build_info,
    get_device,
    get_ep_devices,
    get_version_string,
    set_default_logger_severity,
    set_default_logger_verbosity,
    set_global_thread_pool_sizes,
    set_seed,
)
from .binding import IOBinding
from .objects import (
    ArenaExtendStrategy,
    ExecutionOrder,
    OrtAllocatorType,
    OrtArenaCfg,
    OrtDevice,
    OrtMemoryInfo,
    OrtMemType,
    OrtSparseFormat,
    OrtValueVector,
    kNextPowerOfTwo,
    kSameAsRequested,
)
from .ortvalue import OrtValue
from .session_methods import OrtEpAssignedNode, OrtEpAssignedSubgraph

Fail = XinrtError
InvalidArgument = InvalidArgumentError
NoSuchFile = ModelNotFoundError
NoModel = InvalidModelError
InvalidProtobuf = InvalidModelError
InvalidGraph = InvalidModelError
ModelLoaded = InvalidModelError
NotImplemented = UnsupportedError  # noqa: A001 - ORT's own name
RuntimeException = ExecutionError
EngineError = ExecutionError
EPFail = BackendUnavailableError
NotFound = InvalidArgumentError
ModelRequiresCompilation = UnsupportedError
ModelLoadCanceled = ExecutionError
DeviceReset = ExecutionError

SessionIOBinding = IOBinding  # ORT's C-level binding; xinrt's IOBinding takes the session


def get_default_session_options() -> SessionOptions:
    return SessionOptions()


# ORT names without an xinrt counterpart: importable, refused when used.
UNSUPPORTED = (
    "AdapterFormat", "LoraAdapter", "ModelCompiler", "ModelPackage",
    "ModelPackageComponentContext", "ModelPackageContext", "ModelPackageOptions",
    "ModelPackageWriteMode", "OrtCompileApiFlags", "OrtCompiledModelCompatibility",
    "OrtDeviceEpIncompatibilityReason", "OrtDeviceMemoryType", "OrtEpContextData",
    "OrtEpContextDataBuffer", "OrtEpDevice",
    "OrtExecutionProviderDevicePolicy", "OrtExternalInitializerInfo", "OrtHardwareDevice",
    "OrtHardwareDeviceType", "OrtMemoryInfoDeviceType", "OrtSyncStream",
    "SessionObjectInitializer", "SparseBlockSparseView", "SparseCooView", "SparseCsrView",
    "SparseTensor", "copy_tensors", "create_and_register_allocator",
    "create_and_register_allocator_v2", "get_all_operator_schema", "get_all_opkernel_def",
    "get_compatibility_info_from_model", "get_compatibility_info_from_model_bytes",
    "get_hardware_device_ep_incompatibility_details", "get_hardware_devices",
    "get_model_compatibility_for_ep_devices", "get_registered_ep_kernel_defs",
    "get_session_initializer", "has_collective_ops", "opkernel",
    "pack_fp4_weights_for_cuda_moe_gemm", "quantize_matmul_2bits", "quantize_matmul_4bits",
    "quantize_matmul_8bits", "quantize_matmul_bnb4", "quantize_qdq_matmul_2bits",
    "quantize_qdq_matmul_4bits", "register_execution_provider_library", "schemadef",
    "set_default_logger_callback",
    "unregister_execution_provider_library",
)  # fmt: skip


def _refuse(name: str) -> NoReturn:
    raise UnsupportedError(
        f"onnxruntime.capi.onnxruntime_pybind11_state.{name} is not implemented by xinrt; "
        "use the real onnxruntime for it (xinrt's `ort` backend runs models on it)"
    )


class _UnsupportedMeta(type):
    def __getattr__(cls, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        _refuse(f"{cls.__name__}.{attribute}")


def _unsupported(name: str) -> type:
    """A stand-in that imports fine and raises NotImplemented when called or used."""

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse(name)

    return _UnsupportedMeta(name, (), {"__new__": refuse, "__doc__": f"Not in xinrt: {name}."})


def __getattr__(name: str) -> Any:
    if name in UNSUPPORTED:
        return _unsupported(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ArenaExtendStrategy", "DeviceReset", "EPFail", "EngineError", "ExecutionMode",
    "ExecutionOrder", "Fail", "GraphOptimizationLevel", "InferenceSession", "InvalidArgument",
    "InvalidGraph", "InvalidProtobuf", "ModelLoadCanceled", "ModelLoaded", "ModelMetadata",
    "ModelRequiresCompilation", "NoModel", "NoSuchFile", "NodeArg", "NotFound",
    "NotImplemented", "OrtAllocatorType", "OrtArenaCfg", "OrtDevice", "OrtMemType",
    "OrtEpAssignedNode", "OrtEpAssignedSubgraph", "OrtMemoryInfo", "OrtSparseFormat",
    "OrtValue", "OrtValueVector", "RunOptions",
    "RuntimeException", "SessionIOBinding", "SessionOptions", "disable_telemetry_events",
    "enable_telemetry_events", "get_all_providers", "get_available_providers",
    "get_build_info", "get_default_session_options", "get_device", "get_ep_devices",
    "get_version_string", "kNextPowerOfTwo", "kSameAsRequested", "set_default_logger_severity",
    "set_default_logger_verbosity", "set_global_thread_pool_sizes", "set_seed", *UNSUPPORTED,
]  # fmt: skip
