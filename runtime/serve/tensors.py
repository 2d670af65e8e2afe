"""Protocol tensors <-> numpy, checked against the model before any work is queued.

A request that declares more data than it carries, a shape whose product overflows the request,
or a dtype the model does not take is the client's error (HTTP 400 / gRPC INVALID_ARGUMENT), and
it never reaches a batch where it could fail other clients' requests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput

from ..session import NodeArg

# ONNX element type (as in "tensor(float)") -> the protocol's datatype name.
V2_DATATYPES = {
    "float": "FP32",
    "float16": "FP16",
    "bfloat16": "BF16",
    "double": "FP64",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "bool": "BOOL",
    "string": "BYTES",
}
NUMPY_DTYPES = {
    "FP32": np.float32,
    "FP16": np.float16,
    "FP64": np.float64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "BOOL": np.bool_,
}


def v2_datatype(arg: NodeArg) -> str:
    """The protocol datatype of a model input or output (`tensor(float)` -> FP32)."""
    inner = arg.type[len("tensor(") : -1] if arg.type.startswith("tensor(") else arg.type
    return V2_DATATYPES.get(inner, inner.upper())


def v2_shape(arg: NodeArg) -> list[int]:
    """The declared shape with -1 for every symbolic or unknown dim."""
    return [d if isinstance(d, int) and d >= 0 else -1 for d in (arg.shape or [])]


def tensor_metadata(args: Sequence[NodeArg]) -> list[dict[str, Any]]:
    """Model metadata entries: name, datatype, shape."""
    return [{"name": a.name, "datatype": v2_datatype(a), "shape": v2_shape(a)} for a in args]


def to_array(tensor: InferInput, arg: NodeArg, where: str) -> np.ndarray:
    """The request tensor as a numpy array of the input's dtype and a shape its dims allow."""
    name = f"{where}: input {tensor.name!r}"
    wanted = v2_datatype(arg)
    if tensor.datatype != wanted:
        raise InvalidInput(f"{name} has datatype {tensor.datatype}; the model wants {wanted}")
    dtype = NUMPY_DTYPES.get(wanted)
    if dtype is None:
        raise InvalidInput(f"{name}: datatype {wanted} is not served by xinrt")
    shape = _checked_shape(tensor.shape, arg, name)
    count = math.prod(shape)
    raw = tensor._raw_data  # KServe keeps binary tensor data here (REST extension and gRPC)
    if raw is not None:
        expected = count * np.dtype(dtype).itemsize
        if len(raw) != expected:
            raise InvalidInput(
                f"{name} declares shape {shape} ({expected} bytes of {wanted}) "
                f"but carries {len(raw)} bytes"
            )
        return np.frombuffer(raw, dtype=dtype).reshape(shape)
    if tensor.data is None:
        raise InvalidInput(f"{name} has neither 'data' nor binary data")
    try:
        array: np.ndarray = np.asarray(tensor.data, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInput(f"{name}: 'data' is not a list of {wanted} values: {exc}") from exc
    if array.size != count:
        raise InvalidInput(
            f"{name} declares shape {shape} ({count} values) but carries {array.size} values"
        )
    return array.reshape(shape)


def _checked_shape(shape: Any, arg: NodeArg, name: str) -> list[int]:
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidInput(f"{name}: shape must be a list of whole numbers >= 0, got {shape!r}")
    declared = arg.shape or []
    if len(shape) != len(declared):
        raise InvalidInput(
            f"{name} has shape {list(shape)} of rank {len(shape)}; the model wants rank "
            f"{len(declared)} {v2_shape(arg)}"
        )
    for axis, (got, want) in enumerate(zip(shape, declared)):
        if isinstance(want, int) and want >= 0 and got != want:
            raise InvalidInput(
                f"{name} has shape {list(shape)}; dim {axis} must be {want} "
                f"(the model's shape is {v2_shape(arg)})"
            )
    return [int(d) for d in shape]
