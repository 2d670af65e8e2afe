"""SessionOptions: the knobs a session takes, named as ONNX Runtime names them where it has them."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidArgumentError
from .ort_compat.initializers import check_added_initializer, refuse_external_initializers
from .ort_compat.refusals import PROVIDERS_HINT, SESSION_OPTIONS_REFUSED, add_refused_methods

PLACEMENTS = ("fastest", "priority")
PRECISIONS = ("", "fp32", "fp16", "bf16", "int8")  # "" = each backend's default


def default_placement() -> str:
    """$XINRT_PLACEMENT (set by `xinrt exec --placement`), else "fastest"."""
    return os.environ.get("XINRT_PLACEMENT", "").strip() or "fastest"


class ExecutionMode(enum.IntEnum):
    """ORT's modes; xinrt runs partitions in order either way (accepted for compatibility)."""

    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


class GraphOptimizationLevel(enum.IntEnum):
    """ORT's levels; xinrt passes them on to backends that optimise (ORT does)."""

    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


@dataclass
class SessionOptions:
    """Options for InferenceSession. One object may be shared by several sessions.

    strict: no fallback; every node must run on the first backend (raises listing the rest).
    placement_overrides: {node name | op type | regex on node name: backend name}.
    min_coverage: {backend: fraction}; session creation fails if the backend gets a smaller
        FLOP-weighted share of the model.
    placement: "fastest" (default; $XINRT_PLACEMENT changes it) times the candidates the
        backends' claims allow and takes the fastest, never slower than the best backend that
        runs the whole model; costs are cached on disk. "priority" gives each node the first
        backend that claims it. `strict` implies priority.
    placement_budget_s / placement_runs: how long "fastest" may spend timing when nothing is
        cached, and the timed runs per candidate (after one warm-up run). Each backend that
        runs the whole model is always timed (with fewer runs once the budget runs short: it
        guards the choice); stretches of nodes and mixed plans only within the budget, and
        what was left untimed is timed by the next session (the costs are cached).
    placement_first_run: where "fastest" had to make input sizes up (symbolic dims) or a
        candidate failed on the made-up inputs, the first run times the candidates again on its
        own inputs and switches to the winner before running (runtime/first_run.py; costs
        cached per shapes). False keeps the creation's choice.
    fallback_on_backend_error: a backend whose compile raises an error (not a decline) fails
        the session; with this set its nodes go to the next backend and the placement report
        records the error.
    track_backend_busy: sum each backend's partition run time for
        InferenceSession.backend_busy_seconds() (off: it is not counted).
    """

    intra_op_num_threads: int = 0  # 0 = each backend's default (physical cores)
    graph_optimization_level: GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL
    log_severity_level: int = 2
    strict: bool = False
    placement_overrides: dict[str, str] = field(default_factory=dict)
    min_coverage: dict[str, float] = field(default_factory=dict)
    # Reduced precision for backends that compile for it ("fp32", "fp16", "bf16", "int8"): one
    # value for every backend, or {backend: precision}; "" = each backend's default. int8 backends
    # calibrate on `calibration_data` (a list of feed dicts), else on seeded random inputs.
    # "bf16": `cpu` runs Conv and MatMul in bf16 with fp32 sums on CPUs with AVX512_BF16 (else
    # fp32, and its placement report says so); backends with fixed precisions decline it.
    precision: str | dict[str, str] = ""
    calibration_data: list[dict[str, Any]] | None = None
    placement: str = field(default_factory=default_placement)
    placement_budget_s: float = 5.0
    placement_runs: int = 3
    placement_first_run: bool = True
    fallback_on_backend_error: bool = False
    # Sum each backend's partition run time (InferenceSession.backend_busy_seconds(); xinrt
    # serve turns it on). Off by default: it costs two clock reads and a lock per partition run.
    track_backend_busy: bool = False

    # ONNX Runtime fields. Those with an effect in xinrt: inter_op_num_threads and
    # execution_mode go to the ort backend, enable_profiling records per-partition times
    # (end_profiling() writes them), optimized_model_filepath receives the model as placed,
    # free dimension overrides fix symbolic input dims. The rest are accepted no-ops
    # (xinrt has no arena or memory-pattern switches); see docs/onnxruntime-compat.md.
    inter_op_num_threads: int = 0
    execution_mode: ExecutionMode = ExecutionMode.ORT_SEQUENTIAL
    log_verbosity_level: int = 0
    logid: str = ""
    enable_cpu_mem_arena: bool = True
    enable_mem_pattern: bool = True
    enable_mem_reuse: bool = True
    enable_profiling: bool = False
    profile_file_prefix: str = "xinrt_profile"
    optimized_model_filepath: str = ""
    use_deterministic_compute: bool = False
    session_config: dict[str, str] = field(default_factory=dict)
    free_dimension_overrides: dict[str, int] = field(default_factory=dict)
    # ORT's global thread pools (set_global_thread_pool_sizes) serve sessions that set False.
    use_per_session_threads: bool = True
    execution_order: int = 0  # ORT's ExecutionOrder; xinrt runs partitions in graph order
    # add_initializer(name, OrtValue): replaces the model's initializer of that name.
    added_initializers: dict[str, Any] = field(default_factory=dict)

    def precision_for(self, backend: str) -> str:
        """The precision asked of one backend ("" = its default)."""
        if isinstance(self.precision, dict):
            return self.precision.get(backend, "")
        return self.precision

    def add_session_config_entry(self, key: str, value: str) -> None:
        """ORT's free-form config entries; kept, readable, passed to the ort backend."""
        self.session_config[str(key)] = str(value)

    def get_session_config_entry(self, key: str) -> str:
        if key not in self.session_config:
            raise InvalidArgumentError(f"session config entry {key!r} is not set")
        return self.session_config[key]

    def add_free_dimension_override_by_name(self, dim_name: str, dim_value: int) -> None:
        """Fix a symbolic input dimension (e.g. 'batch') to a value for every input using it."""
        if not isinstance(dim_value, int) or dim_value < 0:
            raise InvalidArgumentError(f"free dimension {dim_name!r} needs an int >= 0")
        self.free_dimension_overrides[dim_name] = dim_value

    def add_free_dimension_override_by_denotation(self, denotation: str, dim_value: int) -> None:
        raise InvalidArgumentError(
            "free dimension overrides by denotation are not supported by xinrt; "
            "use add_free_dimension_override_by_name"
        )

    def register_custom_ops_library(self, library_path: str) -> None:
        raise InvalidArgumentError(
            f"register_custom_ops_library({library_path!r}): xinrt cannot load ORT custom-op "
            "libraries; run such models on the ort backend with onnxruntime directly, or write "
            "an xinrt backend (docs/backend-authors.md)"
        )

    def add_initializer(self, name: str, value: Any) -> None:
        """ORT's add_initializer: the OrtValue replaces the model's initializer `name` in every
        session made with these options (a name the model lacks is ignored, as in ORT)."""
        self.added_initializers[str(name)] = check_added_initializer(name, value)

    def add_external_initializers(self, names: Any, values: Any) -> None:
        """ORT's add_external_initializers: refused (NotImplemented) at the call."""
        refuse_external_initializers(names, values)

    def validate(self) -> None:
        """Raise InvalidArgumentError naming the first field with a wrong value."""
        for knob in ("intra_op_num_threads", "inter_op_num_threads"):
            value = getattr(self, knob)
            if not isinstance(value, int) or value < 0:
                raise InvalidArgumentError(f"{knob} must be an int >= 0, got {value!r}")
        try:
            self.graph_optimization_level = GraphOptimizationLevel(self.graph_optimization_level)
        except ValueError:
            levels = [int(v) for v in GraphOptimizationLevel]
            raise InvalidArgumentError(
                f"graph_optimization_level must be one of {levels}, "
                f"got {self.graph_optimization_level!r}"
            ) from None
        if self.log_severity_level not in range(5):
            raise InvalidArgumentError(
                f"log_severity_level must be 0..4, got {self.log_severity_level!r}"
            )
        try:
            self.execution_mode = ExecutionMode(self.execution_mode)
        except ValueError:
            raise InvalidArgumentError(
                "execution_mode must be ORT_SEQUENTIAL or ORT_PARALLEL, "
                f"got {self.execution_mode!r}"
            ) from None
        precisions = (
            self.precision.values() if isinstance(self.precision, dict) else [self.precision]
        )
        for precision in precisions:
            if precision not in PRECISIONS:
                raise InvalidArgumentError(
                    "precision must be fp32, fp16, bf16 or int8 (or a dict of them), "
                    f"got {precision!r}"
                )
        if self.placement not in PLACEMENTS:
            raise InvalidArgumentError(
                f"placement must be one of {', '.join(PLACEMENTS)} "
                f"(SessionOptions.placement or $XINRT_PLACEMENT), got {self.placement!r}"
            )
        budget = self.placement_budget_s
        if not isinstance(budget, (int, float)) or isinstance(budget, bool) or budget < 0:
            raise InvalidArgumentError(
                f"placement_budget_s must be a number of seconds >= 0, got {budget!r}"
            )
        runs = self.placement_runs
        if not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
            raise InvalidArgumentError(f"placement_runs must be an int >= 1, got {runs!r}")
        for backend, share in self.min_coverage.items():
            if not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
                raise InvalidArgumentError(
                    f"min_coverage[{backend!r}] must be a fraction in [0, 1], got {share!r}"
                )


add_refused_methods(SessionOptions, SESSION_OPTIONS_REFUSED, PROVIDERS_HINT)
