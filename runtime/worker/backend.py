"""The part every worker-backed backend shares: probes, legalize, compile cache, verify, run.

A vendor backend subclasses `WorkerBackend` and gives: its venv (`env_spec`), its targets and
precisions, and its static op rules (`node_rule`, from its rules.py); its SDK adapter is the
worker.py beside it (`adapter_path`), the only file that imports the SDK. Everything the SDK
does happens in the worker process; what comes back is checked against the reference before the
session may use it.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import onnx
import onnx_ir as ir

from xinrt.backend import (
    SUPPORTED,
    Backend,
    CompileOptions,
    Device,
    Executable,
    Support,
    SupportLevel,
)
from xinrt.backend import unsupported as _unsupported
from xinrt.cache import JsonCache
from xinrt.compile_cache import CompileCache, compile_key
from xinrt.errors import BackendNotFoundError, ExecutionError, UnsupportedError
from xinrt.graph_utils import name_of
from xinrt.partition import Partition
from xinrt.passes.legalize import (
    evaluate,
    fp16_overflow,
    legalize,
    raise_opset,
    remove_inference_noops,
    seeded_feeds,
    symbolic_inputs,
)

from .client import Worker, WorkerError
from .envs import (
    EnvSpec,
    env_dir,
    env_installed,
    env_python,
    env_trust_problem,
    worker_environment,
)
from .executable import BuildOptions, ShapeKeyedExecutable, WorkerExecutable
from .probe import probe_model

TOLERANCE = {"fp32": 1e-5, "fp16": 1e-3}  # max abs error, scaled by max(1, max |reference|)
MIN_COSINE = {"int8": 0.99}
_MAYBE = Support(SupportLevel.MAYBE)


def compare_outputs(
    reference: Mapping[str, np.ndarray], got: Mapping[str, np.ndarray], precision: str
) -> dict[str, Any]:
    """Worst max-abs error and cosine over the outputs, and whether the precision's bar is met."""
    worst_err, worst_cos, scale, problem = 0.0, 1.0, 1.0, ""
    for name, want in reference.items():
        want64 = np.asarray(want, dtype=np.float64).ravel()
        have = got.get(name)
        if have is None or np.asarray(have).size != want64.size:
            shape = None if have is None else list(np.asarray(have).shape)
            return {"passed": False, "detail": f"output {name!r}: got shape {shape}"}
        have64 = np.asarray(have, dtype=np.float64).ravel()
        if not np.all(np.isfinite(have64)):
            return {"passed": False, "detail": f"output {name!r} has inf or NaN"}
        err = float(np.max(np.abs(have64 - want64))) if want64.size else 0.0
        norm = float(np.linalg.norm(want64) * np.linalg.norm(have64))
        cos = float(np.dot(want64, have64) / norm) if norm > 0 else float(err == 0.0)
        if err > worst_err:
            worst_err = err
            scale = max(1.0, float(np.max(np.abs(want64))) if want64.size else 1.0)
        if cos < worst_cos:
            worst_cos = cos
            problem = name
    figures: dict[str, Any] = {"max_abs_err": worst_err, "cosine": worst_cos}
    if precision in MIN_COSINE:
        passed = worst_cos >= MIN_COSINE[precision]
        bar = f"cosine {worst_cos:.5f} (needs >= {MIN_COSINE[precision]})"
    else:
        tolerance = TOLERANCE.get(precision, 1e-3) * scale
        passed = worst_err <= tolerance
        bar = f"max abs error {worst_err:.3g} (needs <= {tolerance:.3g})"
    figures["passed"] = passed
    figures["detail"] = bar + (f", worst output {problem!r}" if problem and not passed else "")
    return figures


def _as_bytes_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


class WorkerBackend(Backend):
    """A backend whose SDK runs in a worker process in its own venv (see docs/backend-authors)."""

    family: ClassVar[str] = ""  # the entry-point name, e.g. "rknn"
    env_spec: ClassVar[EnvSpec]  # the worker venv (installed by `xinrt backend install`)
    adapter_path: ClassVar[Path]  # default: worker.py beside the subclass's module
    sdk_version: ClassVar[str] = ""  # the pinned version; part of every cache key
    targets: ClassVar[tuple[str, ...]] = ()
    default_target: ClassVar[str] = ""
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)
    default_precision: ClassVar[str] = "fp32"
    min_opset: ClassVar[int] = 13
    probe_timeout_s: ClassVar[float] = 300.0
    compile_timeout_s: ClassVar[float] = 1800.0
    # One run (sending inputs, computing, receiving outputs) on a simulator or board: past
    # this the worker is killed and run() raises ExecutionError; a subclass with a slow
    # simulator raises it (docs/security.md).
    run_timeout_s: ClassVar[float] = 120.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "adapter_path" not in cls.__dict__:
            module = sys.modules[cls.__module__].__file__
            if module is not None:
                cls.adapter_path = Path(module).with_name("worker.py")

    def __init__(self, target: str | None = None) -> None:
        chosen = (target or self.default_target).lower()
        if chosen not in self.targets:
            raise BackendNotFoundError(
                f"unknown {self.family} target {chosen!r}; known: {', '.join(self.targets)}"
            )
        self.target = chosen
        self.name = f"{self.family}:{chosen}"
        self.compile_cache = CompileCache(self.name)
        self._worker: Worker | None = None
        self._worker_lock = threading.Lock()

    # -- what a subclass may refine ------------------------------------------------------

    def hardware_devices(self) -> list[Device]:
        """Real NPUs visible here (none by default: the simulator is used)."""
        return []

    def simulator_ready(self) -> bool:
        """Whether the SDK's simulator can run here (its worker venv is installed and trusted)."""
        return env_installed(self.env_spec.name) and not self.worker_trust_problem()

    def worker_trust_problem(self) -> str:
        """ "" when the worker's venv may be run, else why not (owned by someone else, or
        writable by group or others: code anyone could change would run as this user)."""
        if env_dir(self.env_spec.name) in self.worker_python().parents:
            return env_trust_problem(self.env_spec.name)
        return ""

    def worker_python(self) -> Path:
        """The interpreter the worker runs on: the SDK venv's."""
        return env_python(self.env_spec.name)

    def node_rule(self, node: ir.Node, graph: ir.Graph) -> str:
        """ "" when the vendor's documented op list allows the node, else the reason."""
        return ""

    def check_precision(self, precision: str) -> str:
        """ "" when this target computes at `precision`, else why not."""
        if precision not in self.precisions:
            return f"{self.name} computes in {', '.join(self.precisions)}, not {precision}"
        return ""

    def compile_args(self, precision: str) -> dict[str, Any]:
        """Extra arguments for the adapter's compile (target options)."""
        return {}

    # -- the contract --------------------------------------------------------------------

    def devices(self) -> list[Device]:
        real = self.hardware_devices()
        if real:
            return real
        if self.simulator_ready():
            return [
                Device(
                    f"{self.target} (simulator)",
                    "simulator",
                    f"{self.env_spec.sdk} simulator, worker venv {env_dir(self.env_spec.name)}",
                )
            ]
        return []

    def unavailable_reason(self) -> str:
        if self.devices():
            return ""
        untrusted = self.worker_trust_problem()
        if untrusted:
            return f"{self.family}: refusing its worker venv: {untrusted}"
        return (
            f"no {self.target} device and {self.env_spec.sdk}'s simulator is not installed; run "
            f"`xinrt backend install {self.family}` (own venv under {env_dir(self.env_spec.name)})"
        )

    @property
    def worker(self) -> Worker:
        """The SDK worker process of this backend (one per backend instance, shared)."""
        with self._worker_lock:
            if self._worker is None:
                self._worker = Worker(
                    self.family,
                    self.worker_python(),
                    self.adapter_path,
                    env=worker_environment(self.env_spec),
                    preflight=self.worker_trust_problem,
                )
            return self._worker

    def capability(self, graph: ir.Graph) -> dict[str, Support]:
        answers: dict[str, Support] = {}
        pending: dict[str, tuple[onnx.ModelProto, list[str]]] = {}
        cache = JsonCache(f"{self.family}-capability-{self.sdk_version}-{self.target}")
        for node in graph:
            name = name_of(node)
            reason = self.node_rule(node, graph)
            if reason:
                answers[name] = _unsupported(reason)
                continue
            built = probe_model(node, graph)
            if isinstance(built, str):
                answers[name] = _MAYBE  # only compile can tell (e.g. a symbolic shape)
                continue
            model, key = built
            known = cache.get(key)
            if known is not None:
                answers[name] = _unsupported(known) if known else SUPPORTED
            elif self.devices():
                pending.setdefault(key, (model, []))[1].append(name)
            else:
                answers[name] = _MAYBE
        for key, reason in self._probe_all({k: m for k, (m, _) in pending.items()}).items():
            cache.put(key, reason)
            for name in pending[key][1]:
                answers[name] = _unsupported(reason) if reason else SUPPORTED
        cache.flush()
        return answers

    def _probe_all(self, models: Mapping[str, onnx.ModelProto]) -> dict[str, str]:
        """Probe many one-node models in one worker call; one by one if the SDK crashes."""
        ready: dict[str, onnx.ModelProto] = {}
        results: dict[str, str] = {}
        for key, model in models.items():
            try:
                ready[key] = remove_inference_noops(raise_opset(model, self.min_opset))
            except ValueError as exc:
                results[key] = f"{self.family}: {exc}"
        if not ready:
            return results
        try:
            results.update(self._probe_batch(ready))
        except WorkerError:
            for key, model in ready.items():
                try:
                    results.update(self._probe_batch({key: model}))
                except WorkerError as exc:
                    results[key] = f"{self.env_spec.sdk} fails on it: {exc.message}"[:300]
        return results

    def _probe_batch(self, models: Mapping[str, onnx.ModelProto]) -> dict[str, str]:
        keys = list(models)
        arrays = {
            f"m{i}": _as_bytes_array(models[k].SerializeToString()) for i, k in enumerate(keys)
        }
        args = {"target": self.target, "count": len(keys), **self.compile_args("")}
        result, _ = self.worker.call("probe", args, arrays, timeout_s=self.probe_timeout_s)
        reasons = result.get("reasons", [])
        if not isinstance(reasons, list):
            reasons = []  # a malformed answer claims nothing
        return {k: str(reasons[i]) if i < len(reasons) else "no answer" for i, k in enumerate(keys)}

    def compile(self, partition: Partition, options: CompileOptions) -> Executable:
        precision = options.precision or self.default_precision
        refusal = self.check_precision(precision)
        if refusal:
            raise UnsupportedError(f"{self.name}: {refusal}")
        model = partition.to_model_proto()
        label = f"partition {partition.index} ({len(partition.nodes)} nodes)"
        calibration = options.calibration_data
        if symbolic_inputs(model):
            return ShapeKeyedExecutable(self, model, label, precision, calibration)
        return self.build(model, {}, label, precision, calibration)

    # -- building ------------------------------------------------------------------------

    def build(
        self,
        model: onnx.ModelProto,
        shapes: Mapping[str, Sequence[int]],
        label: str,
        precision: str,
        calibration: Sequence[Mapping[str, Any]] | None,
    ) -> WorkerExecutable:
        """Legalize, check the fp16 range, compile (or reuse the cache), verify: an executable.

        A cache hit is verified like a fresh compile before use (its bytes against the hash
        recorded at compile time, its numbers against the reference); one that fails either
        check is dropped and compiled afresh, and the report says so."""
        started = time.perf_counter()
        try:
            legal = legalize(model, shapes, self.min_opset)
        except (ValueError, onnx.checker.ValidationError) as exc:
            raise UnsupportedError(f"{self.name}: {label}: cannot legalize it: {exc}") from exc
        input_shapes = {
            v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in legal.graph.input
        }
        calibration_arrays: dict[str, np.ndarray] = {}
        if precision == "int8":
            calibration_arrays = self._calibration(legal, calibration, label)
        digest = hashlib.sha256()
        for name in sorted(calibration_arrays):
            digest.update(name.encode() + np.ascontiguousarray(calibration_arrays[name]).tobytes())
        key = compile_key(
            legal, input_shapes, self.sdk_version, self.target, precision, digest.hexdigest()
        )
        options = BuildOptions(precision, calibration)
        feeds = seeded_feeds(legal, seed=0)
        cached = self.compile_cache.get(key)
        dropped = ""
        if cached is not None:
            try:
                executable, _ = self._compile_in_worker(
                    legal, label, options, input_shapes, calibration_arrays, cached[0]
                )
                report = self._verify(executable, legal, feeds, precision, label)
            except UnsupportedError as exc:
                self.compile_cache.drop(key)
                dropped = f"the cached entry failed verification and was dropped: {exc}"[:300]
            else:
                compiled_s = time.perf_counter() - started
                first = cached[1].get("compile_s", 0.0)
                first = float(first) if isinstance(first, (int, float)) else 0.0
                report["cache"] = "hit"
                report["compile_s"] = round(compiled_s, 3)
                report["saved_s"] = round(max(first - compiled_s, 0.0), 3)
                executable.report = report
                return executable
        if precision in ("fp16", "int8"):
            overflow = fp16_overflow(legal, feeds)
            if overflow:
                tensor, peak = overflow[0]
                raise UnsupportedError(
                    f"{self.name}: {label}: tensor {tensor!r} reaches {peak:.3g} on seeded "
                    f"inputs, beyond fp16's 65504 ({len(overflow)} tensors do): it would be "
                    f"inf/NaN at {precision}"
                )
        executable, result = self._compile_in_worker(
            legal, label, options, input_shapes, calibration_arrays, None
        )
        report = self._verify(executable, legal, feeds, precision, label)
        report["compile_s"] = round(time.perf_counter() - started, 3)
        report["cache"] = "miss"
        if dropped:
            report["cache_dropped"] = dropped
        self.compile_cache.put(
            key,
            executable.artifact,
            {
                "report": report,
                "compile_s": report["compile_s"],
                "sdk_version": self.sdk_version,
                "target": self.target,
                "precision": precision,
                "model": f"{label}, {len(legal.graph.node)} nodes",
                "sdk_log": str(result.get("log", ""))[-2000:],
            },
        )
        executable.report = report
        return executable

    def _compile_in_worker(
        self,
        legal: onnx.ModelProto,
        label: str,
        options: BuildOptions,
        input_shapes: dict[str, list[int]],
        calibration_arrays: dict[str, np.ndarray],
        artifact: bytes | None,
    ) -> tuple[WorkerExecutable, dict[str, Any]]:
        """The SDK's compile (or reload of a cached artifact) of a legalized partition."""
        arrays: dict[str, np.ndarray] = {"model": _as_bytes_array(legal.SerializeToString())}
        if artifact:
            arrays["artifact"] = _as_bytes_array(artifact)
        arrays.update(calibration_arrays)  # an SDK that must rebuild (rknn) needs them again
        args = {
            "target": self.target,
            "precision": options.precision,
            "inputs": list(input_shapes),
            "shapes": input_shapes,
            "outputs": [v.name for v in legal.graph.output],
            **self.compile_args(options.precision),
        }
        try:
            result, out = self.worker.call("compile", args, arrays, self.compile_timeout_s)
        except WorkerError as exc:
            raise UnsupportedError(f"{self.name}: {label}: {exc.message}") from exc
        declined = result.get("declined") or {}
        if not isinstance(declined, dict):
            raise UnsupportedError(f"{self.name}: {label}: the SDK adapter's 'declined' is bad")
        if declined:
            ours = {n.name for n in legal.graph.node}
            raise UnsupportedError(
                f"{self.name}: {label}: {len(declined)} nodes would not run on the NPU: "
                + "; ".join(f"{n}: {r}" for n, r in list(declined.items())[:3]),
                {str(n): str(r) for n, r in declined.items() if n in ours},
            )
        handle = result.get("handle")
        if not isinstance(handle, int) or isinstance(handle, bool):
            raise UnsupportedError(
                f"{self.name}: {label}: the SDK adapter answered handle {handle!r}, not an int"
            )
        executable = WorkerExecutable(self, legal, label, handle, self.worker.starts, options)
        built = out.get("artifact")
        executable.artifact = built.tobytes() if built is not None else b""
        return executable, result

    def _verify(
        self,
        executable: WorkerExecutable,
        legal: onnx.ModelProto,
        feeds: dict[str, np.ndarray],
        precision: str,
        label: str,
    ) -> dict[str, Any]:
        reference = evaluate(legal, feeds)
        try:
            got = executable.run(feeds)
        except ExecutionError as exc:
            executable.release()
            raise UnsupportedError(f"{self.name}: {label}: verification run failed: {exc}") from exc
        figures = compare_outputs(reference, got, precision)
        if not figures["passed"]:
            executable.release()
            raise UnsupportedError(
                f"{self.name}: {label}: result differs from the reference on seeded inputs at "
                f"{precision}: {figures['detail']}"
            )
        kind = "simulator" if not self.hardware_devices() else "device"
        return {
            "device": f"{self.target} ({kind})",
            "precision": precision,
            "max_abs_err": figures["max_abs_err"],
            "cosine": round(figures["cosine"], 6),
            "sdk": self.env_spec.sdk,
        }

    def _calibration(
        self,
        legal: onnx.ModelProto,
        calibration: Sequence[Mapping[str, Any]] | None,
        label: str,
    ) -> dict[str, np.ndarray]:
        names = [v.name for v in legal.graph.input]
        usable = [c for c in calibration or [] if all(n in c for n in names)]
        if not usable:
            warnings.warn(
                f"{self.name}: {label}: no calibration_data with inputs {names}; int8 "
                "calibrates on 4 seeded random inputs (accuracy on real data may be worse)",
                stacklevel=3,
            )
            usable = [seeded_feeds(legal, seed=s) for s in range(1, 5)]
        return {
            f"calib.{i}.{n}": np.asarray(sample[n])
            for i, sample in enumerate(usable)
            for n in names
        }
