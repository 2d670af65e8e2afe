"""Where ONNX Runtime (1.32, CPU EP) must not be claimed even though a one-node probe succeeds.

Each rule is op / dtype / attribute level with its reason, found by running onnx's backend test
suite (`xinrt conformance --backends ort`): a decline here sends the node to the next backend.
"""

from __future__ import annotations

import onnx_ir as ir

# Element types ORT computes with, but its Python API cannot hand to or take from numpy
# ("Numpy_type 256 can't be converted"; float8 comes back as uint8).
_UNEXCHANGEABLE = {
    "BFLOAT16",
    "FLOAT8E4M3FN",
    "FLOAT8E4M3FNUZ",
    "FLOAT8E5M2",
    "FLOAT8E5M2FNUZ",
    "FLOAT8E8M0",
    "FLOAT4E2M1",
    "INT4",
    "UINT4",
    "INT2",
    "UINT2",
}


def _dtype_name(value: ir.Value | None) -> str:
    return value.dtype.name if value is not None and value.dtype is not None else ""


_FP16_ROUNDING_OPS = {"MatMul", "Softmax", "LogSoftmax", "Gemm"}


def known_deviation(node: ir.Node, provider: str = "CPUExecutionProvider") -> str:
    """The reason ORT must not run the node on `provider`, or "" when it may."""
    for value in [*node.inputs, *node.outputs]:
        if _dtype_name(value) in _UNEXCHANGEABLE:
            return (
                f"{_dtype_name(value).lower()} tensors cannot cross ORT's Python API "
                "(no numpy exchange for this type)"
            )
    if node.domain not in ("", "ai.onnx"):
        return ""
    op = node.op_type
    if op in ("DFT", "STFT"):
        return (
            f"ORT's {op} (float32 FFT) misses the spec's expected values by up to 3e-4 "
            "absolute in onnx's tests"
        )
    if (
        provider == "CPUExecutionProvider"
        and op in _FP16_ROUNDING_OPS
        and _dtype_name(node.inputs[0]) == "FLOAT16"
    ):
        return (
            f"ORT's CPU {op} on float16 accumulates in float32 and rounds once; the spec's "
            "per-op float16 results differ by one ulp (onnx's fp16 attention tests)"
        )
    if op == "Attention":
        return (
            "ORT 1.32's Attention differs from the spec for causal fp16, bias with causal "
            "masks and padded KV with 4-D masks (onnx's tests)"
        )
    if op == "MaxUnpool" and len(node.inputs) > 2 and node.inputs[2] is not None:
        return "ORT's MaxUnpool ignores the output_shape input's padding semantics"
    if op == "ConvInteger" and not _scalar(node.inputs[3] if len(node.inputs) > 3 else None):
        return (
            "ORT's ConvInteger fails at run time with a per-channel w_zero_point "
            "('Non per-tensor quantization is not supported now')"
        )
    if op in ("ReduceMax", "ReduceMin") and _dtype_name(node.inputs[0]) == "BOOL":
        if _empty(node.inputs[0]):
            return f"ORT's {op} fails at run time on an empty bool tensor"
    if (
        op == "Resize"
        and node.attributes.get_string("coordinate_transformation_mode", "") == "align_corners"
        and _downsamples(node)
    ):
        return "ORT's Resize with align_corners differs from the spec when downsampling"
    return ""


def _scalar(value: ir.Value | None) -> bool:
    """True for an absent input or one known to hold a single element."""
    if value is None:
        return True
    return value.shape is not None and all(isinstance(d, int) and d == 1 for d in value.shape)


def _empty(value: ir.Value | None) -> bool:
    return value is not None and value.shape is not None and any(d == 0 for d in value.shape)


def _downsamples(node: ir.Node) -> bool:
    """True when Resize's constant scales shrink a dim (unknown scales count as shrinking)."""
    scales = node.inputs[2] if len(node.inputs) > 2 else None
    if scales is None or scales.const_value is None:
        return True
    return bool((scales.const_value.numpy() < 1).any())


def crashes_ort(node: ir.Node) -> str:
    """Why creating an ORT session that holds this node would kill the process (a segfault in
    ORT 1.32, not an exception), or "". Such nodes are declined before ORT sees them."""
    if node.domain not in ("", "ai.onnx") or node.op_type != "LayerNormalization":
        return ""
    # Scale or bias of a higher rank than, or not broadcastable to, the normalized shape:
    # ORT's kernel set-up reads past its buffers (tests/fuzz seed 1018506).
    x = node.inputs[0] if node.inputs else None
    if x is None or x.shape is None:
        return ""
    axis_attr = node.attributes.get("axis")
    axis = axis_attr.as_int() if axis_attr is not None else -1
    rank = len(x.shape)
    if not -rank <= axis < rank:
        return f"LayerNormalization axis {axis} outside rank {rank} (ORT 1.32 crashes on it)"
    normalized = list(x.shape)[axis % rank :]
    for index in (1, 2):
        param = node.inputs[index] if len(node.inputs) > index else None
        if param is None or param.shape is None:
            continue
        dims = list(param.shape)
        fits = len(dims) <= len(normalized) and all(
            not isinstance(d, int) or not isinstance(n, int) or d in (1, n)
            for d, n in zip(reversed(dims), reversed(normalized))
        )
        if not fits:
            return (
                f"LayerNormalization input {index} of shape {dims} does not broadcast to the "
                f"normalized shape {normalized} (ORT 1.32 crashes on it)"
            )
    return ""
