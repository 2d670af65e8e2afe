"""ONNX type strings as ONNX Runtime prints them: tensor(float), seq(tensor(int64)), ..."""

from __future__ import annotations

import onnx_ir as ir


def type_string(type_: ir.TypeProtocol | None) -> str:
    """`tensor(float)`, `seq(tensor(int64))`, `optional(tensor(bool))`; "unknown" when untyped."""
    if type_ is None:
        return "unknown"
    if isinstance(type_, ir.TensorType):
        return f"tensor({type_.dtype.name.lower()})"
    if isinstance(type_, ir.SequenceType):
        return f"seq({type_string(type_.elem_type)})"
    if isinstance(type_, ir.OptionalType):
        return f"optional({type_string(type_.elem_type)})"
    if isinstance(type_, ir.SparseTensorType):
        return f"sparse_tensor({type_.dtype.name.lower()})"
    return str(type_)
