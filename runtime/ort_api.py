"""ONNX Runtime's Python API on xinrt: RunOptions, OrtValue, IOBinding and module functions.

With these (exported from `xinrt`), `import xinrt as ort` works for code written for
onnxruntime; `xinrt.drop_in` goes further and makes `import onnxruntime` itself resolve here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidArgumentError
from .providers import EP_TARGETS
from .run_stop import RunStop

if TYPE_CHECKING:
    from .session import InferenceSession

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


def _cpu_only(device_type: str, what: str) -> None:
    if str(device_type).lower() != "cpu":
        raise InvalidArgumentError(
            f"{what}: device {device_type!r} is not available to xinrt's Python API; only 'cpu' "
            "memory can be bound (device backends keep their own buffers)"
        )


class OrtValue:
    """A CPU tensor handed to or returned by a session; wraps (does not copy) a numpy array."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    @staticmethod
    def ortvalue_from_numpy(
        array: np.ndarray, device_type: str = "cpu", device_id: int = 0
    ) -> OrtValue:
        _cpu_only(device_type, "OrtValue.ortvalue_from_numpy")
        return OrtValue(np.asarray(array))

    @staticmethod
    def ortvalue_from_shape_and_type(
        shape: Sequence[int],
        element_type: Any = np.float32,
        device_type: str = "cpu",
        device_id: int = 0,
    ) -> OrtValue:
        _cpu_only(device_type, "OrtValue.ortvalue_from_shape_and_type")
        return OrtValue(np.empty(tuple(shape), dtype=element_type))

    def numpy(self) -> np.ndarray:
        return self._array

    def shape(self) -> list[int]:
        return list(self._array.shape)

    def data_type(self) -> str:
        from .types import numpy_type_string

        return numpy_type_string(self._array.dtype)

    def element_type(self) -> Any:
        return self._array.dtype.type

    def device_name(self) -> str:
        return "cpu"

    def data_ptr(self) -> int:
        return int(self._array.ctypes.data)

    def is_tensor(self) -> bool:
        return True

    def has_value(self) -> bool:
        return True

    def is_tensor_sequence(self) -> bool:
        return False

    def is_sparse_tensor(self) -> bool:
        return False

    def tensor_size_in_bytes(self) -> int:
        return int(self._array.nbytes)

    def update_inplace(self, array: np.ndarray) -> None:
        np.copyto(self._array, array)


class IOBinding:
    """ORT's IOBinding for CPU memory: bind inputs and outputs, run, read the results."""

    def __init__(self, session: InferenceSession) -> None:
        self._session = session
        self._inputs: dict[str, np.ndarray] = {}
        self._outputs: dict[str, OrtValue | None] = {}
        self._results: list[OrtValue] = []

    def bind_cpu_input(self, name: str, array: np.ndarray) -> None:
        self._inputs[name] = np.asarray(array)

    def bind_ortvalue_input(self, name: str, value: OrtValue) -> None:
        self._inputs[name] = value.numpy()

    def bind_input(
        self,
        name: str,
        device_type: str,
        device_id: int,
        element_type: Any,
        shape: Sequence[int],
        buffer_ptr: int,
    ) -> None:
        raise InvalidArgumentError(
            f"bind_input({name!r}) with a raw buffer pointer is not supported by xinrt; use "
            "bind_cpu_input or bind_ortvalue_input"
        )

    def bind_output(
        self,
        name: str,
        device_type: str = "cpu",
        device_id: int = 0,
        element_type: Any = None,
        shape: Sequence[int] | None = None,
        buffer_ptr: int | None = None,
    ) -> None:
        _cpu_only(device_type, f"bind_output({name!r})")
        if buffer_ptr is not None:
            raise InvalidArgumentError(
                f"bind_output({name!r}) into a raw buffer pointer is not supported; bind an "
                "OrtValue with bind_ortvalue_output"
            )
        self._outputs[name] = None

    def bind_ortvalue_output(self, name: str, value: OrtValue) -> None:
        self._outputs[name] = value

    def clear_binding_inputs(self) -> None:
        self._inputs.clear()

    def clear_binding_outputs(self) -> None:
        self._outputs.clear()
        self._results = []

    def synchronize_inputs(self) -> None:
        """CPU memory needs no synchronisation."""

    def synchronize_outputs(self) -> None:
        """CPU memory needs no synchronisation."""

    def get_outputs(self) -> list[OrtValue]:
        return list(self._results)

    def copy_outputs_to_cpu(self) -> list[np.ndarray]:
        return [np.array(v.numpy(), copy=True) for v in self._results]

    def _run(self, run_options: RunOptions | None) -> None:
        names = list(self._outputs) or None
        arrays = self._session.run(names, self._inputs, run_options)
        results = []
        for name, array in zip(names or [o.name for o in self._session.get_outputs()], arrays):
            target = self._outputs.get(name)
            if target is None:
                results.append(OrtValue(array))
                continue
            if target.shape() != list(array.shape):
                raise InvalidArgumentError(
                    f"output {name!r} is {list(array.shape)} but the bound OrtValue is "
                    f"{target.shape()}"
                )
            target.update_inplace(array)
            results.append(target)
        self._results = results


def run_async(
    session: InferenceSession,
    output_names: Sequence[str] | None,
    input_feed: dict[str, Any],
    callback: Callable[..., None],
    user_data: Any,
    run_options: RunOptions | None,
) -> None:
    """Run on a worker thread, then callback(outputs, user_data, error_message)."""

    def work() -> None:
        try:
            outputs = session.run(output_names, input_feed, run_options)
        except Exception as exc:  # reported to the callback, as ORT does
            callback([], user_data, f"{type(exc).__name__}: {exc}")
            return
        callback(outputs, user_data, "")

    threading.Thread(target=work, name="xinrt-run-async", daemon=True).start()


def provider_names(backends: Sequence[str]) -> list[str]:
    """ORT provider names for backend names: ort:<ep> -> its EP; CPU backends -> CPU EP."""
    by_target = {target: provider for provider, target in EP_TARGETS.items()}
    names: list[str] = []
    for backend in backends:
        base, _, target = backend.partition(":")
        if base == "ort" and target:
            name = by_target.get(target, f"{target}ExecutionProvider")
        else:
            name = "CPUExecutionProvider"  # xinrt's cpu and reference backends run on the CPU
        if name not in names:
            names.append(name)
    return names


def get_available_providers() -> list[str]:
    """ORT-style names for what xinrt can use here; always includes CPUExecutionProvider."""
    from .session import available_backends

    names = provider_names(available_backends())
    return names if "CPUExecutionProvider" in names else [*names, "CPUExecutionProvider"]


def get_all_providers() -> list[str]:
    """Every execution provider name xinrt knows how to map."""
    return list(EP_TARGETS)


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


def set_default_logger_severity(severity: int) -> None:
    """0 verbose .. 4 fatal; passed on to onnxruntime when it is installed."""
    if severity not in range(5):
        raise InvalidArgumentError(f"logger severity must be 0..4, got {severity!r}")
    _logger["severity"] = severity
    from .backends.ort.backend import _ort

    if _ort is not None:
        _ort.set_default_logger_severity(severity)


def set_default_logger_verbosity(verbosity: int) -> None:
    _logger["verbosity"] = int(verbosity)


def get_version_string() -> str:
    from . import __version__

    return f"{ORT_API_VERSION}+xinrt{__version__}"


def get_build_info() -> str:
    from . import __version__

    return f"xinrt {__version__} (onnxruntime API {ORT_API_VERSION})"


def set_seed(seed: int) -> None:
    """Seed numpy's global generator, which the reference backend's random ops draw from."""
    np.random.seed(int(seed))


def get_ep_devices() -> list[Any]:
    """ORT's EP devices when onnxruntime is installed (the ort backend's), else none."""
    from .backends.ort.backend import _ort

    return list(_ort.get_ep_devices()) if _ort is not None else []


def preload_dlls(*args: Any, **kwargs: Any) -> None:
    """Accepted for compatibility: xinrt loads its libraries when a backend is first used."""


def disable_telemetry_events() -> None:
    """Accepted for compatibility: xinrt sends no telemetry."""


def enable_telemetry_events() -> None:
    """Accepted for compatibility: xinrt sends no telemetry."""
