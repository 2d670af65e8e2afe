"""ONNX Runtime's module-level Python API on xinrt: RunOptions and the module functions.

With these (exported from `xinrt`), `import xinrt as ort` works for code written for
onnxruntime; `xinrt.drop_in` goes further and makes `import onnxruntime` itself resolve here.
The `ort` backend is reached through the backend registry (`get_backend("ort")`), never by
importing its modules: the front end names no backend module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import available_backends, get_backend
from ..errors import BackendNotFoundError, InvalidArgumentError
from ..run_stop import RunStop
from ..version import __version__
from .errors import OrtArgumentError
from .providers import EP_TARGETS, provider_names
from .refusals import RUN_OPTIONS_REFUSED, add_refused_methods

# The onnxruntime API level xinrt follows; a PEP 440 local version keeps comparisons working.
ORT_API_VERSION = "1.20.0"

_logger = {"severity": 2, "verbosity": 0}


@dataclass
class RunOptions:
    """ORT's per-run options. `terminate = True` (from any thread) stops the runs using these
    options at their next check (between kernels, in every Loop iteration) and makes later
    runs refuse to start; `timeout_s` (xinrt's own) stops a run that takes longer."""

    log_severity_level: int = 2
    log_verbosity_level: int = 0
    logid: str = ""
    run_tag: str = ""
    terminate: bool = False
    only_execute_path_to_fetches: bool = False
    run_config: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    # The RunStop of each run in progress with these options (runtime/run_stop.py).
    _active: set[RunStop] = field(default_factory=set, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "terminate" and value:
            for stop in list(getattr(self, "_active", ())):
                stop.terminate()

    def add_run_config_entry(self, key: str, value: str) -> None:
        self.run_config[str(key)] = str(value)

    def get_run_config_entry(self, key: str) -> str:
        if key not in self.run_config:
            raise InvalidArgumentError(f"run config entry {key!r} is not set")
        return self.run_config[key]


def get_available_providers() -> list[str]:
    """ORT-style names for what xinrt can use here; always includes CPUExecutionProvider."""
    names = provider_names(available_backends())
    return names if "CPUExecutionProvider" in names else [*names, "CPUExecutionProvider"]


# onnxruntime 1.32's get_all_providers(): every EP its sources know, CPU last.
_ORT_ALL_PROVIDERS = (
    "TensorrtExecutionProvider", "CUDAExecutionProvider", "MIGraphXExecutionProvider",
    "OpenVINOExecutionProvider", "DnnlExecutionProvider", "VitisAIExecutionProvider",
    "QNNExecutionProvider", "NnapiExecutionProvider", "VSINPUExecutionProvider",
    "JsExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider",
    "RknpuExecutionProvider", "WebNNExecutionProvider", "WebGpuExecutionProvider",
    "XnnpackExecutionProvider", "CANNExecutionProvider", "AzureExecutionProvider",
    "CPUExecutionProvider",
)  # fmt: skip


def get_all_providers() -> list[str]:
    """ORT's list of every execution provider name, in ORT's order with CPU last, and before
    CPU the other names xinrt maps (ROCm, NvTensorRTRTX)."""
    extra = [name for name in EP_TARGETS if name not in _ORT_ALL_PROVIDERS]
    return [*_ORT_ALL_PROVIDERS[:-1], *extra, "CPUExecutionProvider"]


def get_device() -> str:
    """ "GPU" when a GPU execution provider is usable here, else "CPU" (as ORT reports)."""
    gpu = {
        "CUDAExecutionProvider",
        "ROCMExecutionProvider",
        "TensorrtExecutionProvider",
        "MIGraphXExecutionProvider",
        "DmlExecutionProvider",
    }
    return "GPU" if gpu & set(get_available_providers()) else "CPU"


def _ort_backend() -> Any:
    """The `ort` backend from the registry, or None when it is not installed."""
    try:
        return get_backend("ort")
    except BackendNotFoundError:
        return None


def set_default_logger_severity(severity: int) -> None:
    """0 verbose .. 4 fatal; passed on to onnxruntime when it is installed."""
    if severity not in range(5):
        raise InvalidArgumentError(f"logger severity must be 0..4, got {severity!r}")
    _logger["severity"] = severity
    backend = _ort_backend()
    if backend is not None and hasattr(backend, "set_log_severity"):
        backend.set_log_severity(severity)


def set_default_logger_verbosity(verbosity: int) -> None:
    _logger["verbosity"] = int(verbosity)


def get_version_string() -> str:
    return f"{ORT_API_VERSION}+xinrt{__version__}"


def get_build_info() -> str:
    """ORT's "ORT Build Info: key=value, ..." line, naming xinrt's build."""
    return (
        f"ORT Build Info: xinrt={__version__}, onnxruntime-api={ORT_API_VERSION}, "
        "build type=Release"
    )


_global_threads = {"intra_op_num_threads": 0, "inter_op_num_threads": 0}


def set_global_thread_pool_sizes(intra_op_num_threads: int, inter_op_num_threads: int) -> None:
    """ORT's global thread pools: sessions whose SessionOptions set
    `use_per_session_threads = False` take these thread counts (where they set none)."""
    for name, value in (("intra", intra_op_num_threads), ("inter", inter_op_num_threads)):
        if not isinstance(value, int) or value < 0:
            raise OrtArgumentError(f"set_global_thread_pool_sizes: {name} must be an int >= 0")
    _global_threads["intra_op_num_threads"] = intra_op_num_threads
    _global_threads["inter_op_num_threads"] = inter_op_num_threads


def global_thread_pool_sizes() -> dict[str, int]:
    """What set_global_thread_pool_sizes recorded (0 = not set)."""
    return dict(_global_threads)


def set_seed(seed: int) -> None:
    """Seed numpy's global generator, which the reference backend's random ops draw from."""
    np.random.seed(int(seed))


def get_ep_devices() -> list[Any]:
    """ORT's EP devices when onnxruntime is installed (the ort backend's), else none."""
    backend = _ort_backend()
    return list(backend.ep_devices()) if hasattr(backend, "ep_devices") else []


def preload_dlls(*args: Any, **kwargs: Any) -> None:
    """Accepted for compatibility: xinrt loads its libraries when a backend is first used."""


def disable_telemetry_events() -> None:
    """Accepted for compatibility: xinrt sends no telemetry."""


def enable_telemetry_events() -> None:
    """Accepted for compatibility: xinrt sends no telemetry."""


add_refused_methods(RunOptions, RUN_OPTIONS_REFUSED, "xinrt has no LoRA adapters")
