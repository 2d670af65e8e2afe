"""A partition compiled by a worker-backed backend, as the session runs it: rebuilt with the
options it was first compiled with when its worker was restarted, and compiled once per input
shape when its inputs have symbolic dims."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import onnx

from xinrt.backend import Executable
from xinrt.errors import ExecutionError, UnsupportedError

from .client import Worker, WorkerError, WorkerRestarted
from .envs import EnvSpec


class WorkerBackend(Protocol):
    """What an executable needs of the backend that built it (worker/backend.py's class; a
    protocol, as that file imports this one)."""

    name: str
    target: str
    env_spec: EnvSpec
    run_timeout_s: float

    @property
    def worker(self) -> Worker: ...

    def build(
        self,
        model: onnx.ModelProto,
        shapes: Mapping[str, Sequence[int]],
        label: str,
        precision: str,
        calibration: Sequence[Mapping[str, Any]] | None,
    ) -> WorkerExecutable: ...


@dataclass(frozen=True)
class BuildOptions:
    """What a compile was asked for; a rebuild after a worker restart must ask the same."""

    precision: str
    calibration: Sequence[Mapping[str, Any]] | None


class WorkerExecutable:
    """A compiled partition living in the worker; rebuilt there if the worker was restarted,
    with the options (precision, calibration data) it was first built with."""

    def __init__(
        self,
        backend: WorkerBackend,
        model: onnx.ModelProto,
        label: str,
        handle: int,
        generation: int,
        options: BuildOptions,
    ) -> None:
        self.backend = backend
        self.model = model
        self.label = label
        self.handle = handle
        self.generation = generation
        self.options = options
        self.report: dict[str, Any] = {}
        self.artifact = b""  # what the SDK gave back to cache
        self._rebuild_lock = threading.Lock()
        self.outputs = [v.name for v in model.graph.output]
        self._types = {
            v.name: onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type)
            for v in model.graph.output
        }
        self._shapes = {
            v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
            for v in model.graph.output
            if all(d.HasField("dim_value") for d in v.type.tensor_type.shape.dim)
        }

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        worker = self.backend.worker
        sdk = self.backend.env_spec.sdk
        out: dict[str, np.ndarray] = {}
        for attempt in range(3):
            try:
                with self._rebuild_lock:  # one thread rebuilds; the others wait and use it
                    if worker.pid is None or worker.starts != self.generation:  # lost in a crash
                        self._rebuild()
                    handle, generation = self.handle, self.generation
                _, out = worker.call(
                    "run",
                    {"handle": handle, "outputs": self.outputs},
                    feeds,
                    self.backend.run_timeout_s,
                    generation=generation,
                )
                break
            except WorkerRestarted as exc:  # restarted by another thread since our check
                if attempt == 2:
                    raise ExecutionError(
                        f"{self.backend.name} ({sdk}): {self.label}: {exc.message}"
                    ) from exc
            except WorkerError as exc:
                raise ExecutionError(
                    f"{self.backend.name} ({sdk}): {self.label}: {exc.message}"
                ) from exc
        missing = [n for n in self.outputs if n not in out]
        if missing:
            raise ExecutionError(f"{self.backend.name}: {self.label}: no output {missing}")
        for name, shape in self._shapes.items():
            if out[name].shape == shape:
                continue
            if out[name].size != int(np.prod(shape)):
                raise ExecutionError(
                    f"{self.backend.name} ({sdk}): {self.label}: output {name!r} came back with "
                    f"shape {list(out[name].shape)}, the model says {list(shape)}"
                )
            out[name] = out[name].reshape(shape)  # SDKs may add or drop unit dims (rknn)
        return {n: out[n].astype(self._types[n], copy=False) for n in self.outputs}

    def _rebuild(self) -> None:
        """Compile again in a fresh worker, as first asked (verified again, from the cache)."""
        options = self.options
        try:
            rebuilt = self.backend.build(
                self.model, {}, self.label, options.precision, options.calibration
            )
        except UnsupportedError as exc:
            raise ExecutionError(
                f"{self.backend.name}: {self.label}: the worker restarted and the partition "
                f"could not be rebuilt as first compiled: {exc}"
            ) from exc
        self.handle, self.generation = rebuilt.handle, rebuilt.generation

    def release(self) -> None:
        """Free the compiled model in the worker (best effort)."""
        try:
            self.backend.worker.call("release", {"handle": self.handle}, timeout_s=30)
        except WorkerError:
            pass


class ShapeKeyedExecutable:
    """A partition with symbolic input dims: compiled (and cached) once per distinct shape."""

    def __init__(
        self,
        backend: WorkerBackend,
        model: onnx.ModelProto,
        label: str,
        precision: str,
        calibration: Sequence[Mapping[str, Any]] | None,
    ) -> None:
        self.backend = backend
        self.model = model
        self.label = label
        self.precision = precision
        self.calibration = calibration
        self.report: dict[str, Any] = {
            "device": f"{backend.target} (compiled per input shape at run time)",
            "precision": precision,
        }
        self._built: dict[tuple[tuple[str, tuple[int, ...]], ...], Executable] = {}
        self._lock = threading.Lock()

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shapes = tuple(sorted((n, tuple(np.shape(v))) for n, v in feeds.items()))
        with self._lock:
            executable = self._built.get(shapes)
            if executable is None:
                try:
                    executable = self.backend.build(
                        self.model, dict(shapes), self.label, self.precision, self.calibration
                    )
                except UnsupportedError as exc:
                    raise ExecutionError(f"{exc} (input shapes {dict(shapes)})") from exc
                self._built[shapes] = executable
        return executable.run(feeds)
