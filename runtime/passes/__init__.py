"""Graph passes on onnx_ir, each Graph -> Graph and tested alone.

`prepare_for_placement` always runs (placement relies on it); `optimize` runs the rest by
SessionOptions.graph_optimization_level: basic removes no-ops and folds small constant
sub-graphs, extended and above also fold BatchNormalization into Conv.
"""

from __future__ import annotations

import onnx_ir as ir

from .fold_batchnorm import fold_batchnorm_into_conv
from .fold_constants import fold_constants
from .prepare import prepare_for_placement, take_overridable_initializers
from .remove_noops import remove_inference_noops


def optimize(model: ir.Model, level: int) -> ir.Model:
    """The shared passes for an optimization level (ORT's numbering: 0, 1, 2, 99)."""
    if level >= 1:
        remove_inference_noops(model)
        fold_constants(model)
    if level >= 2:
        fold_batchnorm_into_conv(model)
    return model


__all__ = [
    "fold_batchnorm_into_conv",
    "fold_constants",
    "optimize",
    "prepare_for_placement",
    "remove_inference_noops",
    "take_overridable_initializers",
]
