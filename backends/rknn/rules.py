"""Per-op rules for Rockchip NPUs: the ONNX ops rknn-toolkit2 2.5.0 documents, and limits.

From Rockchip's "RKNN Compiler Support Operator List" (v2.x). An op outside the list is declined
here; an op inside it is still probed (a one-node trial build in the worker), because the
compiler may give a documented op to the SoC's CPU instead of the NPU (its layer table says so).
"""

from __future__ import annotations

import onnx_ir as ir

DOCUMENTED_OPS = frozenset(
    """
    Abs Add And ArgMax ArgMin AveragePool BatchNormalization Cast Ceil Clip Concat Conv
    ConvTranspose Cos DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp Expand
    Flatten Floor GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalMaxPool
    Greater GreaterOrEqual GridSample HardSigmoid HardSwish Identity InstanceNormalization
    LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization LRN LSTM MatMul
    Max MaxPool MaxRoiPool MaxUnpool Mean Min Mish Mod Mul Neg Not Or Pad Pow PRelu
    QuantizeLinear Reciprocal ReduceL2 ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
    ReduceSumSquare Relu Reshape Resize ReverseSequence RoiAlign Round ScatterElements ScatterND
    Selu Shape Sigmoid Sign Sin Slice Softmax Softplus SpaceToDepth Split Sqrt Squeeze Sub Sum
    Swish Tanh Tile TopK Transpose Unsqueeze Upsample Where
    """.split()
)

_FLOAT_OR_SMALL_INT = {"FLOAT", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL"}


def node_rule(node: ir.Node) -> str:
    """ "" when the node may go to the NPU (probe decides), else the one-line reason."""
    if node.domain not in ("", "ai.onnx"):
        return f"rknn-toolkit2 takes only ai.onnx ops, not domain {node.domain!r}"
    if node.op_type not in DOCUMENTED_OPS:
        return f"{node.op_type} is not in rknn-toolkit2's documented ONNX op list"
    for value in [*node.inputs, *node.outputs]:
        if value is not None and value.dtype is not None:
            if value.dtype.name not in _FLOAT_OR_SMALL_INT:
                return f"rknn NPUs have no {value.dtype.name.lower()} tensors"
    return ""
