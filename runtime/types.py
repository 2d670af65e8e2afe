"""ONNX type strings as ONNX Runtime prints them: tensor(float), seq(tensor(int64)), ..."""

from __future__ import annotations

import numpy as np
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


def numpy_type_string(dtype: np.dtype) -> str:
    """`tensor(float)` for float32 and so on, as ORT names numpy dtypes."""
    try:
        element = ir.DataType.from_numpy(np.dtype(dtype))
    except (TypeError, ValueError):
        return f"tensor({np.dtype(dtype).name})"
    return f"tensor({element.name.lower()})"
