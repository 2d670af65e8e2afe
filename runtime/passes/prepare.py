"""The normalisation every placement relies on: constants are initializers, not inputs or nodes."""

from __future__ import annotations

import onnx_ir as ir
from onnx_ir.passes.common import (
    LiftConstantsToInitializersPass,
    RemoveInitializersFromInputsPass,
)


def prepare_for_placement(model: ir.Model) -> ir.Model:
    """Turn Constant nodes into initializers and drop initializers from graph inputs.

    Placement then never splits a constant from its consumer: each partition takes the
    initializers it reads. Initializers listed as inputs (IR < 4 models) stop being feedable.
    """
    RemoveInitializersFromInputsPass()(model)
    LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0)(model)
    return model
