"""InferenceSession: load, place, compile once; run many times from any thread."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir

from .backend import (
    Backend,
    CompileOptions,
    Executable,
    Support,
    available_backends,
    get_backend,
    require_available,
)
from .backend import unsupported as _unsupported
from .compile_step import BackendFallback, CompileDeclined, compile_partition
from .errors import (
    ExecutionError,
    InvalidArgumentError,
    PlacementError,
)
from .executor import BackendBusy, Executor
from .fastest import ONE_CLAIMANT, FastestSetup, ReadyKey, place_fastest, ready_key
from .feeds import FastFeeds, declared_shapes, validate_output_names, warn_on_shape_mismatch
from .first_run import FirstRunPlacement
from .graph_utils import name_of
from .ml_types import holds_map, map_type_of, proto_type_string
from .model import ModelSource, detach_from_proto, load_model, metadata_only
from .options import SessionOptions
from .ort_compat import initializers as ort_initializers
from .ort_compat import session_methods as ort_methods
from .ort_compat.binding import IOBinding
from .ort_compat.ortvalue import OrtValue
from .ort_compat.providers import ProviderSpec, backends_from_providers
from .ort_compat.refusals import EP_OBJECTS_HINT, SESSION_REFUSED, add_refused_methods
from .partition import Partition, partition_graph
from .passes import optimize, prepare_for_placement, take_overridable_initializers
from .placement import PlacementReport, assign_nodes, build_report
from .run_stop import run_stop_scope
from .types import type_string
from .whole_model import capability, given_model, sole_original_model_backend

DEFAULT_BACKENDS = ("cpu", "ort", "reference")
_MAX_COMPILE_ROUNDS = 8  # re-placements after compile-time declines ("maybe" answers)


@dataclass(frozen=True)
class NodeArg:
    """A model input or output as ORT describes it: name, shape (ints, strings or None), type."""

    name: str
    shape: list[int | str | None]
    type: str


@dataclass(frozen=True)
class ModelMetadata:
    producer_name: str
    graph_name: str
    domain: str
    description: str
    graph_description: str
    version: int
    custom_metadata_map: dict[str, str] = field(default_factory=dict)


def _from_environment(
    backends: Sequence[str] | None, providers: Sequence[ProviderSpec] | None
) -> tuple[Sequence[str] | None, Sequence[ProviderSpec] | None]:
    """$XINRT_BACKENDS (set by `xinrt exec --backends`) replaces ORT-style provider lists."""
    chosen = os.environ.get("XINRT_BACKENDS", "")
    if backends is None and chosen:
        return [b for b in chosen.split(",") if b], None
    return backends, providers


def _fix_free_dimensions(graph: ir.Graph, overrides: Mapping[str, int]) -> None:
    """Replace symbolic input dims named in `overrides` with their fixed values."""
    if not overrides:
        return
    for value in graph.inputs:
        if value.shape is None:
            continue
        dims = [overrides.get(str(d), d) if not isinstance(d, int) else d for d in value.shape]
        value.shape = ir.Shape(dims)


def _reads_every_input(partition: Partition, graph: ir.Graph) -> bool:
    """A lone partition may hand over the original model only if its inputs are exactly the
    graph's (a graph input that no node reads is never fed to the partition)."""
    return {name_of(v) for v in partition.inputs} == {name_of(v) for v in graph.inputs}


def _node_arg(value: ir.Value) -> NodeArg:
    map_type = map_type_of(value)
    if map_type is not None:  # ORT shows no shape for a map or a sequence
        return NodeArg(name=name_of(value) or "", shape=[], type=proto_type_string(map_type))
    dims: list[int | str | None] = []
    if value.shape is not None:
        for d in value.shape:
            dims.append(d if isinstance(d, int) else (d.value if d.value is not None else None))
    return NodeArg(name=name_of(value) or "", shape=dims, type=type_string(value.type))


def _declared_arg(info: onnx.ValueInfoProto | None, value: ir.Value) -> NodeArg | None:
    """An output as the model declares it, completed by inference as ORT shows it: a declared
    "Concat_dim_2" that inference knows is 256 shows 256, an unnamed dim takes the inferred
    symbol, but not one shape inference made up (`unk__N`)."""
    if info is None or info.type.WhichOneof("value") is None:
        return None
    if holds_map(info.type):  # onnx_ir cannot read it (ml_types)
        return NodeArg(name=info.name, shape=[], type=proto_type_string(info.type))
    shape = ir.serde.deserialize_type_proto_for_shape(info.type)
    if shape is not None and value.shape is not None and len(shape) == len(value.shape):
        shape = ir.Shape([_shown_dim(d, i) for d, i in zip(shape, value.shape)])
    declared = ir.Value(
        name=info.name, type=ir.serde.deserialize_type_proto_for_type(info.type), shape=shape
    )
    return _node_arg(declared)


def _shown_dim(declared: int | ir.SymbolicDim, inferred: int | ir.SymbolicDim) -> Any:
    if isinstance(inferred, int) or isinstance(declared, int):
        return inferred if isinstance(inferred, int) else declared
    made_up = inferred.value is None or inferred.value.startswith("unk__")
    return declared if declared.value is not None or made_up else inferred


class InferenceSession:
    """A compiled model over one or more backends, placed node by node.

    The model (path, bytes or onnx.ModelProto) comes first, as in ORT (`path_or_bytes`), or
    as `model=`. `backends` lists xinrt backend names in priority order (default: cpu, ort,
    reference, those usable here). ORT code may pass `providers`; they map to `ort:<ep>`.
    """

    def __init__(
        self,
        path_or_bytes: ModelSource | None = None,
        sess_options: SessionOptions | None = None,
        providers: Sequence[ProviderSpec] | None = None,
        provider_options: Sequence[dict[str, Any]] | None = None,
        *,
        backends: Sequence[str] | None = None,
        model: ModelSource | None = None,
    ) -> None:
        options = sess_options if sess_options is not None else SessionOptions()
        if not isinstance(options, SessionOptions):
            raise InvalidArgumentError(
                f"sess_options must be xinrt.SessionOptions, got {type(options).__name__}"
            )
        options.validate()
        options = ort_initializers.with_global_threads(options)
        self._options = options
        self._requested = (backends, providers, provider_options)
        self._backend_names, self._backend_options = self._resolve_backends(
            *_from_environment(backends, providers), provider_options
        )
        if (path_or_bytes is None) == (model is None):
            raise InvalidArgumentError("give the model once: a path, bytes or onnx.ModelProto")
        started = time.perf_counter()
        source = path_or_bytes if path_or_bytes is not None else model
        loaded = load_model(source)  # type: ignore[arg-type]
        self.timings: dict[str, float] = {"load_s": time.perf_counter() - started}
        self._model_label = loaded.label
        # The parsed proto, kept only until placement knows whether one backend takes the whole
        # model as given; then the IR gets its own tensors and the proto goes (_release_proto).
        self._proto: onnx.ModelProto | None = loaded.proto
        self._given = given_model(source)  # the same, as the user gave it (path or bytes)
        self._metadata = metadata_only(loaded.proto)
        self._declared_outputs = {v.name: v for v in loaded.declared_outputs}
        self._ir = loaded.ir_model
        del loaded
        if options.added_initializers:  # ORT's add_initializer; the IR holds the weights now
            self._release_proto()
            ort_initializers.apply_added_initializers(
                self._ir, options.added_initializers, self._model_label
            )
        # Overridable initializers (IR >= 4) become inputs with default values; IR < 4 ones stay
        # constants that cannot be fed (both as in ORT).
        self._defaults = take_overridable_initializers(self._ir)
        graph = self._ir.graph
        self._constant_inputs = [n for n in map(name_of, graph.inputs) if n in graph.initializers]
        if not any(get_backend(name).prefers_original_model for name in self._backend_names):
            self._release_proto()  # before the passes copy weights (BatchNorm folding...)
        # Alone, such a backend gets the model as given: passes that serve placement are moot.
        alone = sole_original_model_backend(self._backend_names, options.placement_overrides)
        self._ir = prepare_for_placement(self._ir)
        if alone is None:
            self._ir = optimize(self._ir, int(options.graph_optimization_level))
        graph = self._ir.graph
        _fix_free_dimensions(graph, options.free_dimension_overrides)
        self._feedable = list(graph.inputs)
        self._inputs = [v for v in self._feedable if name_of(v) not in self._defaults]
        overridable = [v for v in self._feedable if name_of(v) in self._defaults]
        self._overridable_args = [_node_arg(v) for v in overridable]
        self._outputs = list(graph.outputs)
        self._fast_feeds = FastFeeds(
            self._model_label, self._feedable, self._defaults, self._constant_inputs
        )
        self._output_names = [name_of(v) for v in self._outputs]
        self._declared_shapes = declared_shapes(self._outputs)
        self._profile: list[tuple[str, int, int]] | None = [] if options.enable_profiling else None
        self._profile_start_ns = time.perf_counter_ns()
        self._profile_prefix = options.profile_file_prefix
        self._first_run = FirstRunPlacement()
        # Kept across re-placements: every executor adds to it.
        self._busy = BackendBusy() if options.track_backend_busy else None
        self._placement, self._executor = self._place_and_compile(graph)
        self._release_proto(copy_weights=alone is None)
        self.timings["session_s"] = time.perf_counter() - started
        if options.optimized_model_filepath:
            ort_initializers.save_optimized_model(
                self._ir, options.optimized_model_filepath, options.session_config
            )

    # -- construction ---------------------------------------------------------------------

    @staticmethod
    def _resolve_backends(
        backends: Sequence[str] | None,
        providers: Sequence[ProviderSpec] | None,
        provider_options: Sequence[dict[str, Any]] | None,
    ) -> tuple[list[str], dict[str, dict[str, Any]]]:
        """Backend names in priority order, and per-backend options from ORT-style providers."""
        if backends is not None and providers is not None:
            raise InvalidArgumentError(
                "pass either backends= (xinrt names) or providers=, not both"
            )
        if isinstance(backends, str):
            backends = [b for b in backends.split(",") if b]
        if backends is not None:
            if not backends:
                raise InvalidArgumentError("backends= is empty; name at least one backend")
            for name in backends:
                require_available(get_backend(name))
            return list(dict.fromkeys(backends)), {}
        if provider_options is not None:
            if providers is None or len(provider_options) != len(providers):
                raise InvalidArgumentError(
                    "provider_options must be a list with one dict per entry of providers"
                )
            providers = [
                (p if isinstance(p, str) else p[0], {**({} if isinstance(p, str) else p[1]), **o})
                for p, o in zip(providers, provider_options)
            ]
        usable = available_backends()  # loads every backend and asks for its devices: once
        if providers:
            names, per_backend = backends_from_providers(providers, usable)
            if names:
                return names, per_backend
        return [b for b in DEFAULT_BACKENDS if b in usable], {}

    def _place_and_compile(
        self, graph: ir.Graph, timing_feeds: dict[str, np.ndarray] | None = None
    ) -> tuple[PlacementReport, Executor]:
        """Place (timing candidates on `timing_feeds` if given, else made-up inputs) and
        compile; arms the first run's placement when the timing had to guess."""
        opts = self._options
        for backend in opts.placement_overrides.values():
            require_available(get_backend(backend))
        involved = list(dict.fromkeys([*self._backend_names, *opts.placement_overrides.values()]))
        instances = {name: get_backend(name) for name in involved}
        started = time.perf_counter()
        alone = len(instances) == 1
        capabilities = {
            name: dict(capability(b, graph, alone=alone)) for name, b in instances.items()
        }
        self.timings["capability_s"] = time.perf_counter() - started
        self.timings["compile_s"] = 0.0
        self.timings["placement_timing_s"] = 0.0
        fallbacks: list[BackendFallback] = []

        def compile_one(partition: Partition) -> Executable:
            return compile_partition(
                instances[partition.backend],
                partition,
                self._compile_options(partition.backend),
                fallback_on_error=opts.fallback_on_backend_error,
                fallbacks=fallbacks,
            )

        # One backend: nothing to compare, so nothing to time (place_fastest would say so).
        fastest = opts.placement == "fastest" and not opts.strict and not alone
        for _ in range(_MAX_COMPILE_ROUNDS):
            explanation: dict[str, Any] = {"mode": "priority" if not opts.strict else "strict"}
            if alone and opts.placement == "fastest" and not opts.strict:
                explanation = {"mode": "fastest", "reason": ONE_CLAIMANT}
            ready: dict[ReadyKey, Executable] = {}
            try:
                assignment, declined, pinned = assign_nodes(
                    graph,
                    self._backend_names,
                    capabilities,
                    overrides=opts.placement_overrides,
                    strict=opts.strict,
                )
                if fastest:
                    started = time.perf_counter()
                    try:
                        setup = self._fastest_setup(graph, instances, capabilities, compile_one)
                        setup.feeds = timing_feeds
                        chosen = place_fastest(setup, assignment, pinned)
                    finally:
                        self.timings["placement_timing_s"] += time.perf_counter() - started
                    if opts.placement_first_run:
                        self._first_run.arm(chosen.made_up, chosen.failed)
                    assignment, explanation, ready = (
                        chosen.assignment,
                        chosen.explanation,
                        chosen.ready,
                    )
                partitions = partition_graph(graph, assignment, ir_version=self._ir.ir_version)
                if (
                    self._proto is not None
                    and len(partitions) == 1
                    and instances[partitions[0].backend].prefers_original_model
                    and _reads_every_input(partitions[0], graph)
                ):
                    partitions[0].whole_model = self._proto
                    partitions[0].given_model = self._given
                else:
                    self._release_proto()  # before compiling: weights are never held three times
                started = time.perf_counter()
                try:
                    steps = [(p, ready.get(ready_key(p)) or compile_one(p)) for p in partitions]
                finally:
                    self.timings["compile_s"] += time.perf_counter() - started
                    del ready
            except CompileDeclined as declined_at_compile:
                answers = capabilities[declined_at_compile.backend]
                for node, reason in declined_at_compile.node_reasons.items():
                    answers[node] = _unsupported(f"declined at compile: {reason}")
                continue
            for partition in partitions:
                partition.whole_model = partition.given_model = None  # compiled: not kept
            break
        else:
            raise PlacementError(
                f"{self._model_label}: backends kept declining nodes at compile time; "
                f"gave up after {_MAX_COMPILE_ROUNDS} placements"
            )
        devices = {n: [d.name for d in b.devices()] for n, b in instances.items()}
        details = {p.index: dict(getattr(exe, "report", {}) or {}) for p, exe in steps}
        report = build_report(
            self._model_label,
            graph,
            self._backend_names,
            partitions,
            declined,
            pinned,
            devices,
            details,
        )
        report.decision = explanation
        report.fallbacks = [dataclasses.asdict(f) for f in fallbacks]
        self._check_coverage(report)
        constants = {
            name_of(v): v.const_value.numpy()
            for v in graph.outputs
            if v.const_value is not None and name_of(v) in graph.initializers
        }
        outputs = [name_of(v) for v in graph.outputs]
        return report, Executor(steps, outputs, constants, self._busy)

    def _fastest_setup(
        self,
        graph: ir.Graph,
        instances: Mapping[str, Backend],
        capabilities: Mapping[str, Mapping[str, Support]],
        compile_one: Callable[[Partition], Executable],
    ) -> FastestSetup:
        opts = self._options
        return FastestSetup(
            graph=graph,
            priority=self._backend_names,
            instances=instances,
            capabilities=capabilities,
            compile=compile_one,
            compile_options=self._compile_options,
            ir_version=self._ir.ir_version,
            threads=opts.intra_op_num_threads,
            runs=opts.placement_runs,
            budget_s=opts.placement_budget_s,
            free_dimensions=dict(opts.free_dimension_overrides),
            min_coverage=dict(opts.min_coverage),
            whole_model=self._proto,
            given_model=self._given,
        )

    def _release_proto(self, copy_weights: bool = True) -> None:
        """Drop the parsed model; the IR's tensors get their own copies unless `copy_weights`
        is off (a backend alone holds its own model: the IR's tensors may keep the parsed
        proto alive instead, one copy of the weights either way, and no time spent copying)."""
        if self._proto is not None:
            if copy_weights:
                detach_from_proto(self._ir)
            self._proto = None
            self._given = None

    def _compile_options(self, backend: str) -> CompileOptions:
        opts = self._options
        return CompileOptions(
            intra_op_num_threads=opts.intra_op_num_threads,
            graph_optimization_level=int(opts.graph_optimization_level),
            log_severity_level=opts.log_severity_level,
            backend_options=dict(self._backend_options.get(backend, {})),
            inter_op_num_threads=opts.inter_op_num_threads,
            parallel_execution=int(opts.execution_mode) == 1,
            session_config=dict(opts.session_config),
            precision=opts.precision_for(backend),
            calibration_data=opts.calibration_data,
        )

    def set_providers(
        self,
        providers: Sequence[ProviderSpec] | None = None,
        provider_options: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """ORT's set_providers: place and compile the model again on the backends they map to."""
        self._backend_names, self._backend_options = self._resolve_backends(
            None, providers, provider_options
        )
        self._placement, self._executor = self._place_and_compile(self._ir.graph)

    def _place_for_run(self, feeds: dict[str, np.ndarray]) -> None:
        """Place again, timed on a run's inputs (first_run.py); on failure keep the placement
        and say why in its report."""
        started = time.perf_counter()
        try:
            self._placement, self._executor = self._place_and_compile(self._ir.graph, feeds)
        except Exception as exc:  # the session placed once already: keep that, and say so
            note = f"placing again on the first run's inputs failed, kept: {exc}"
            self._placement.decision.setdefault("notes", []).append(note)
            warnings.warn(f"{self._model_label}: {note}", RuntimeWarning, stacklevel=3)
        self.timings["first_run_placement_s"] = time.perf_counter() - started

    def _check_coverage(self, report: PlacementReport) -> None:
        coverage = report.coverage()
        for backend, wanted in self._options.min_coverage.items():
            got = coverage.get(backend, 0.0)
            if got < wanted:
                raise PlacementError(
                    f"{self._model_label}: backend {backend!r} runs {got:.1%} of the model's "
                    f"FLOPs, below min_coverage {wanted:.1%}; see the placement report:\n{report}"
                )

    # -- the ORT-style API ----------------------------------------------------------------

    @property
    def placement(self) -> PlacementReport:
        """What runs where, and why (str() for a table, .to_dict() for JSON)."""
        return self._placement

    # `timings` (seconds): load_s (read + check + shape inference), capability_s,
    # placement_timing_s (placement "fastest": timing candidates, their compiles included),
    # compile_s (the placed partitions' compiles not already done while timing, retries
    # included) and session_s (the whole constructor); first_run_placement_s once the first
    # run placed again on its inputs (first_run.py).

    def backend_busy_seconds(self) -> dict[str, float]:
        """Wall seconds each backend's partitions spent running, summed over every run of this
        session (failed runs included); the growth over an interval is the backend's busy time."""
        if self._busy is None:
            raise InvalidArgumentError(
                f"{self._model_label}: backend busy time is not counted; create the session "
                "with SessionOptions(track_backend_busy=True)"
            )
        return self._busy.seconds()

    @property
    def backends(self) -> list[str]:
        return list(self._backend_names)

    def get_inputs(self) -> list[NodeArg]:
        return [_node_arg(v) for v in self._inputs]

    def get_outputs(self) -> list[NodeArg]:
        """As the model declares them (ORT's answer), typed by inference where it declares none."""
        declared = (_declared_arg(self._declared_outputs.get(name_of(v)), v) for v in self._outputs)
        return [arg or _node_arg(v) for arg, v in zip(declared, self._outputs)]

    def get_session_options(self) -> SessionOptions:
        return self._options

    def get_modelmeta(self) -> ModelMetadata:
        proto = self._metadata
        return ModelMetadata(
            producer_name=proto.producer_name,
            graph_name=proto.graph.name,
            domain=proto.domain,
            description=proto.doc_string,
            graph_description=proto.graph.doc_string,
            version=proto.model_version,
            custom_metadata_map={p.key: p.value for p in proto.metadata_props},
        )

    def run(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        run_options: Any = None,
    ) -> list[np.ndarray]:
        """Run the model; outputs come back in the order asked (all outputs for None)."""
        if run_options is not None and getattr(run_options, "terminate", False):
            raise ExecutionError(f"{self._model_label}: run_options.terminate is set")
        feeds = self._fast_feeds(input_feed)
        if self._first_run.pending:
            self._first_run.place_once(
                self._feedable,
                self._options.free_dimension_overrides,
                feeds,
                self._defaults,
                self._place_for_run,
            )
        names = (
            list(self._output_names)
            if not output_names
            else validate_output_names(self._model_label, self._outputs, output_names)
        )
        if run_options is None:  # nothing to stop it but Ctrl-C, which backends handle
            outputs = self._executor.run(feeds, names, self._profile)
        else:
            with run_stop_scope(self._model_label, run_options):
                outputs = self._executor.run(feeds, names, self._profile)
        warn_on_shape_mismatch(self._declared_shapes, names, outputs)
        return outputs

    # -- the rest of ORT's session API (runtime/ort_compat/session_methods.py) --------------

    def get_providers(self) -> list[str]:
        """ORT names for this session's backends: `ort:<ep>` gives its EP, and xinrt's own CPU
        backends (cpu, reference) appear as CPUExecutionProvider. `placement` says exactly."""
        return ort_methods.provider_names(self._backend_names)

    def get_provider_options(self) -> dict[str, dict[str, Any]]:
        return ort_methods.provider_options(self._backend_names, self._backend_options)

    def get_overridable_initializers(self) -> list[NodeArg]:
        """Initializers listed among the graph inputs of an IR >= 4 model: a feed of that name
        replaces the initializer for that run (as in ORT; IR < 4 ones are constants)."""
        return list(self._overridable_args)

    def run_with_ort_values(
        self,
        output_names: Sequence[str] | None,
        input_dict_ort_values: Mapping[str, OrtValue],
        run_options: Any = None,
    ) -> list[OrtValue]:
        return ort_methods.run_with_ort_values(
            self, output_names, input_dict_ort_values, run_options
        )

    def io_binding(self) -> IOBinding:
        return IOBinding(self)

    def run_with_iobinding(self, iobinding: IOBinding, run_options: Any = None) -> None:
        ort_methods.run_with_iobinding(iobinding, run_options)

    def run_async(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        callback: Callable[..., None],
        user_data: Any = None,
        run_options: Any = None,
    ) -> None:
        """Returns at once; callback(outputs, user_data, error_message) runs on another thread."""
        ort_methods.run_async(self, output_names, input_feed, callback, user_data, run_options)

    def end_profiling(self) -> str:
        """Write the recorded partition times as a Chrome trace JSON; returns its file name
        ("" when profiling was not enabled, as ORT does)."""
        return ort_methods.write_profile(
            self._profile, self._profile_prefix, self._profile_start_ns
        )

    def get_profiling_start_time_ns(self) -> int:
        return self._profile_start_ns

    def get_provider_graph_assignment_info(self) -> list[ort_methods.OrtEpAssignedSubgraph]:
        """Per partition, its provider and nodes (needs ORT's session config entry
        session.record_ep_graph_assignment_info = "1", as in ORT)."""
        return ort_methods.graph_assignment_info(
            self._placement, self._ir.graph, self._options.session_config, self._model_label
        )

    def disable_fallback(self) -> None:
        """Accepted for compatibility: xinrt's fallback is the backend list (or strict=True)."""

    def enable_fallback(self) -> None:
        """Accepted for compatibility: xinrt's fallback is the backend list (or strict=True)."""


add_refused_methods(InferenceSession, SESSION_REFUSED, EP_OBJECTS_HINT)
