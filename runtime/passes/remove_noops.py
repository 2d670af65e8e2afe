"""Remove nodes that do nothing at inference: Identity, and Dropout whose mask nobody reads."""

from __future__ import annotations

import onnx_ir as ir
from onnx_ir.passes.common import IdentityEliminationPass

from ..errors import InvalidModelError


def _training_flag_off(node: ir.Node) -> bool:
    """Dropout-12+ takes training_mode as an input: only a constant False (or absent) is safe."""
    if len(node.inputs) < 3 or node.inputs[2] is None:
        return True
    const = node.inputs[2].const_value
    return const is not None and not bool(const.numpy())


def remove_inference_noops(model: ir.Model) -> ir.Model:
    """Dropout (inference, mask unused) becomes Identity; then every removable Identity goes."""
    for node in list(model.graph):
        if node.op_type != "Dropout" or node.domain not in ("", "ai.onnx"):
            continue
        mask_used = len(node.outputs) > 1 and (
            node.outputs[1].uses() or node.outputs[1].is_graph_output()
        )
        if mask_used or not _training_flag_off(node):
            continue
        identity = ir.node("Identity", inputs=[node.inputs[0]], name=node.name)
        ir.convenience.replace_nodes_and_values(
            model.graph, node, [node], [identity], [node.outputs[0]], [identity.outputs[0]]
        )
    _check_identity_ranks(model)
    IdentityEliminationPass()(model)
    return model


def _check_identity_ranks(model: ir.Model) -> None:
    """An Identity whose declared input and output ranks differ is an invalid model (the pass
    that merges their shapes would fail with a raw ValueError; found by tests/fuzz)."""
    for node in ir.traversal.RecursiveGraphIterator(model.graph):
        if node.op_type != "Identity" or node.domain not in ("", "ai.onnx") or not node.inputs:
            continue
        source, result = node.inputs[0], node.outputs[0]
        if source is None or source.shape is None or result.shape is None:
            continue
        if len(source.shape) != len(result.shape):
            raise InvalidModelError(
                f"node '{node.name}' (Identity): input '{source.name}' has shape {source.shape} "
                f"but output '{result.name}' is declared {result.shape} (ranks differ); fix the "
                "model's value_info / output shapes"
            )
