"""The normalisation every placement relies on: constants are initializers, not inputs or nodes."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir
from onnx_ir.passes.common import (
    LiftConstantsToInitializersPass,
    RemoveInitializersFromInputsPass,
)

_FIRST_OVERRIDABLE_IR = 4  # ORT: in IR < 4 every initializer is an input, and a constant


def take_overridable_initializers(model: ir.Model) -> dict[str, np.ndarray]:
    """Turn initializers also listed as graph inputs (IR >= 4) into plain inputs; return their
    values, the defaults a run uses when the feed does not name them.

    As in ORT such an initializer is not a constant: no pass folds it and no backend bakes it
    in, so a feed of that name replaces it for that run. IR < 4 models list every weight as an
    input; ORT (and xinrt) treat those as constants that cannot be fed.
    """
    if model.ir_version < _FIRST_OVERRIDABLE_IR:
        return {}
    graph = model.graph
    defaults: dict[str, np.ndarray] = {}
    for value in graph.inputs:
        name = value.name
        if name is None or name not in graph.initializers or value.const_value is None:
            continue
        defaults[name] = np.array(value.const_value.numpy(), copy=True)  # not the proto's bytes
        graph.initializers.pop(name)
        value.const_value = None
    return defaults


def prepare_for_placement(model: ir.Model) -> ir.Model:
    """Turn Constant nodes into initializers and drop initializers from graph inputs.

    Placement then never splits a constant from its consumer: each partition takes the
    initializers it reads. Initializers still listed as inputs here (IR < 4 models, or left by
    take_overridable_initializers) stop being feedable.
    """
    RemoveInitializersFromInputsPass()(model)
    LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0)(model)
    return model
