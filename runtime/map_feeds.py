"""Feeds of map type (DictVectorizer's and CastMap's inputs) as ORT takes them: Python dicts.

A `map(string,tensor(float))` input takes a dict of str -> number, a `map(int64,...)` one a dict
of int -> number; a sequence of maps a list of such dicts. Values become the map's value type
(a float map holds float32 values, as in ORT). Anything else is an InvalidInputError naming the
input, never a raw exception from a backend.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx

from .errors import InvalidInputError
from .ml_types import proto_type_string

_INTEGER_KEYS = {
    onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.INT16,
    onnx.TensorProto.INT8, onnx.TensorProto.UINT64, onnx.TensorProto.UINT32,
    onnx.TensorProto.UINT16, onnx.TensorProto.UINT8,
}  # fmt: skip


def check_map_feed(name: str, data: Any, type_proto: onnx.TypeProto) -> Any:
    """The feed as the backends take it (dicts with Python keys and converted values), or an
    InvalidInputError saying what `name` expects."""
    kind = type_proto.WhichOneof("value")
    shown = proto_type_string(type_proto)
    if kind == "optional_type":
        inner = type_proto.optional_type.elem_type
        return None if data is None else check_map_feed(name, data, inner)
    if kind == "sequence_type":
        if not isinstance(data, (list, tuple)):
            raise InvalidInputError(
                f"input {name!r}: expected a list of dicts ({shown}), got {type(data).__name__}"
            )
        each = type_proto.sequence_type.elem_type
        return [check_map_feed(f"{name}[{i}]", item, each) for i, item in enumerate(data)]
    if kind != "map_type":  # a tensor inside a map's sequence: not something a feed can hold
        raise InvalidInputError(f"input {name!r}: a {shown} inside a map feed is not supported")
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"input {name!r}: expected a dict ({shown}), got {_describe(data)}; "
            "feed a map input as a Python dict, as in ONNX Runtime"
        )
    key_type = type_proto.map_type.key_type
    inner = type_proto.map_type.value_type
    element = inner.tensor_type.elem_type if inner.HasField("tensor_type") else 0
    return {
        _key(name, key, key_type, shown): _value(name, key, value, element, shown)
        for key, value in data.items()
    }


def _describe(data: Any) -> str:
    if isinstance(data, np.ndarray):
        return f"a numpy array of {data.dtype.name} and shape {list(data.shape)}"
    return type(data).__name__


def _key(name: str, key: Any, key_type: int, shown: str) -> Any:
    if key_type == onnx.TensorProto.STRING:
        if isinstance(key, str):
            return str(key)
    elif key_type in _INTEGER_KEYS:
        if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)):
            return int(key)
    raise InvalidInputError(
        f"input {name!r}: key {key!r} ({type(key).__name__}) does not fit {shown}; "
        f"keys must be {'str' if key_type == onnx.TensorProto.STRING else 'int'}"
    )


def _value(name: str, key: Any, value: Any, element: int, shown: str) -> Any:
    if element == onnx.TensorProto.STRING:
        if isinstance(value, str):
            return str(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        if element == onnx.TensorProto.FLOAT:
            return float(np.float32(value))
        if element == onnx.TensorProto.DOUBLE:
            return float(value)
        if element == onnx.TensorProto.INT64 and (
            isinstance(value, numbers.Integral) or float(value).is_integer()
        ):
            return int(value)  # type: ignore[call-overload]
    raise InvalidInputError(
        f"input {name!r}: the value {value!r} ({type(value).__name__}) at key {key!r} does "
        f"not fit {shown}"
    )
