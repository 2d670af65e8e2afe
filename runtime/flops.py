"""A FLOP estimate per node, used to weigh placement shares (coverage) by work, not node count."""

from __future__ import annotations

import math

import onnx_ir as ir


def _numel(value: ir.Value | None) -> int:
    """Element count with symbolic dims taken as 1; 0 when the shape is unknown."""
    if value is None or value.shape is None:
        return 0
    return math.prod(d if isinstance(d, int) else 1 for d in value.shape)


def _dims(value: ir.Value | None) -> list[int]:
    if value is None or value.shape is None:
        return []
    return [d if isinstance(d, int) else 1 for d in value.shape]


def node_flops(node: ir.Node) -> int:
    """Multiply-adds count twice; other ops count one per output element; at least 1."""
    out = node.outputs[0] if node.outputs else None
    op = node.op_type
    inputs = list(node.inputs)
    if op in ("Conv", "ConvTranspose", "QLinearConv", "ConvInteger") and len(inputs) > 1:
        weight = _dims(inputs[1] if op != "QLinearConv" else inputs[3])
        if weight:
            per_output = math.prod(weight[1:])  # Cin/group * kernel
            return max(1, 2 * _numel(out if op != "ConvTranspose" else inputs[0]) * per_output)
    if op in ("MatMul", "Gemm", "MatMulInteger", "QLinearMatMul") and len(inputs) > 1:
        a = _dims(inputs[0])
        if a:
            k = a[0] if op == "Gemm" and node.attributes.get_int("transA", False) else a[-1]
            return max(1, 2 * _numel(out) * k)
    return max(1, _numel(out))
