"""Per-op rules of the example NPU: what its vendor documents, checked before any probe.

A real backend lists its vendor's documented ops and limits here (one rule per constraint);
WorkerBackend asks `node_rule` first, then a one-node probe in the worker confirms each node
on the real compiler.
"""

from __future__ import annotations

import onnx_ir as ir

DOCUMENTED_OPS = frozenset(
    "Add Sub Mul Div Neg Relu Sigmoid Tanh MatMul Gemm Conv MaxPool AveragePool "
    "GlobalAveragePool Softmax Reshape Flatten Transpose Concat Identity Dropout".split()
)


def node_rule(node: ir.Node) -> str:
    """ "" when the node may go to the NPU (the probe decides), else the one-line reason."""
    if node.domain not in ("", "ai.onnx"):
        return f"the example NPU runs only ai.onnx ops, not domain {node.domain!r}"
    if node.op_type not in DOCUMENTED_OPS:
        return f"{node.op_type} is not in the example SDK's documented op list"
    for value in [*node.inputs, *node.outputs]:
        if value is not None and value.dtype is not None and value.dtype.name != "FLOAT":
            return f"the example NPU computes float32 tensors only, not {value.dtype.name.lower()}"
    return ""
