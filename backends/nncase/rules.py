"""Per-op rules for nncase 2.11's ONNX importer (K230): the ops it documents, and limits.

From nncase's `docs/onnx_ops.md`. An op outside the list is declined here (the compiler would
abort the whole process on it); an op inside it is still probed in the worker.
"""

from __future__ import annotations

import onnx_ir as ir

DOCUMENTED_OPS = frozenset(
    """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh AveragePool BatchNormalization Cast Ceil
    Celu Clip Compress Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum
    DepthToSpace DequantizeLinear Div Dropout Elu Equal Erf Exp Expand Flatten Floor Gather
    GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual
    HardSigmoid HardSwish Identity InstanceNormalization LayerNormalization LeakyRelu Less
    LessOrEqual Log LogSoftmax LpNormalization LRN LSTM MatMul Max MaxPool Min Mod Mul Neg Not
    OneHot Or Pad Pow PRelu QuantizeLinear RandomNormal RandomNormalLike RandomUniform
    RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax
    ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence
    Round Selu Shape Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign SpaceToDepth
    Split Sqrt Squeeze Sub Sum Tanh Tile TopK Transpose Trilu Unsqueeze Upsample Where Xor
    """.split()
)

_TYPES = {"FLOAT", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL"}


def node_rule(node: ir.Node) -> str:
    """ "" when the node may go to the K230 (probe decides), else the one-line reason."""
    if node.domain not in ("", "ai.onnx"):
        return f"nncase imports only ai.onnx ops, not domain {node.domain!r}"
    if node.op_type not in DOCUMENTED_OPS:
        return f"{node.op_type} is not in nncase 2.11's ONNX importer op list"
    for value in [*node.inputs, *node.outputs]:
        if value is not None and value.dtype is not None and value.dtype.name not in _TYPES:
            return f"nncase has no {value.dtype.name.lower()} tensors"
    return ""
