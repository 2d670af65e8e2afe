"""SessionOptions: the knobs a session takes, named as ONNX Runtime names them where it has them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .errors import InvalidArgumentError


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
    """

    intra_op_num_threads: int = 0  # 0 = each backend's default (physical cores)
    graph_optimization_level: GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL
    log_severity_level: int = 2
    strict: bool = False
    placement_overrides: dict[str, str] = field(default_factory=dict)
    min_coverage: dict[str, float] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise InvalidArgumentError naming the first field with a wrong value."""
        if not isinstance(self.intra_op_num_threads, int) or self.intra_op_num_threads < 0:
            raise InvalidArgumentError(
                f"intra_op_num_threads must be an int >= 0, got {self.intra_op_num_threads!r}"
            )
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
        for backend, share in self.min_coverage.items():
            if not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
                raise InvalidArgumentError(
                    f"min_coverage[{backend!r}] must be a fraction in [0, 1], got {share!r}"
                )
