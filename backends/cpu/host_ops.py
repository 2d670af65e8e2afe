"""The ONNX-ML ops whose inputs or outputs are maps: ZipMap, DictVectorizer, CastMap.

They only re-package values (a float tensor into a list of {label: probability} dicts, a dict
into a tensor row), so they run on the host, in numpy, between the partition's native plans
(`staged.py`), with exactly ORT's results: Python floats of the float32 values, int or str keys,
ORT's CastMap formatting ("%f", pad "0.f") and float -> int64 conversion (x86 truncation,
INT64_MIN for NaN, infinities and values out of range).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir

from xinrt.backend import SUPPORTED, Support, unsupported
from xinrt.errors import ExecutionError
from xinrt.graph_utils import name_of
from xinrt.ml_types import map_type_of, proto_type_string

HostStep = Callable[[list[Any]], list[Any]]

_ML = "ai.onnx.ml"
_VALUE_DTYPES: dict[int, type[np.generic]] = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
}
_INT64_MIN = np.iinfo(np.int64).min


def is_host_op(node: ir.Node) -> bool:
    """Whether the node is one of the map ops this file runs."""
    return node.domain == _ML and node.op_type in _SUPPORT


def host_op_support(node: ir.Node) -> Support:
    """Claim the node, or why not (an attribute or a type ORT's kernel is not matched on)."""
    if len(node.inputs) != 1 or len(node.outputs) != 1 or node.inputs[0] is None:
        return unsupported(f"{node.op_type}: takes one input and one output")
    reason = _SUPPORT[node.op_type](node)
    return unsupported(f"{node.op_type}: {reason}") if reason else SUPPORTED


def host_step(node: ir.Node) -> HostStep:
    """The node as a function of its input values (a claimed node only)."""
    return _STEPS[node.op_type](node)


def _attr(node: ir.Node, name: str, default: Any = None) -> Any:
    attr = node.attributes.get(name)
    return default if attr is None else attr.value


def _fail(node: ir.Node, message: str) -> ExecutionError:
    return ExecutionError(f"cpu: node {name_of(node)!r} ({node.op_type}): {message}")


# -- ZipMap: tensor(float) [N, C] -> seq(map(int64|string, float)) ------------------------


def _zipmap_labels(node: ir.Node) -> list[Any] | None:
    ints, strings = _attr(node, "classlabels_int64s"), _attr(node, "classlabels_strings")
    if (ints is None) == (strings is None):
        return None
    return [int(v) for v in ints] if ints is not None else [str(v) for v in strings]


def _zipmap_support(node: ir.Node) -> str:
    if _zipmap_labels(node) is None:
        return "needs exactly one of classlabels_int64s and classlabels_strings"
    value = node.inputs[0]
    if value is not None and value.dtype is not None and value.dtype != ir.DataType.FLOAT:
        return f"input is {value.dtype.name.lower()}; ZipMap takes float"
    return ""


def _zipmap(node: ir.Node) -> HostStep:
    labels = _zipmap_labels(node)
    assert labels is not None

    def run(inputs: list[Any]) -> list[Any]:
        x = np.asarray(inputs[0])
        if x.ndim not in (1, 2):
            raise _fail(node, f"input has shape {list(x.shape)}; ZipMap takes rank 1 or 2")
        rows = x.reshape(1, -1) if x.ndim == 1 else x
        if rows.shape[1] != len(labels):
            raise _fail(
                node,
                f"input has {rows.shape[1]} columns (shape {list(x.shape)}) but "
                f"{len(labels)} class labels",
            )
        return [[dict(zip(labels, row)) for row in rows.astype(np.float32, copy=False).tolist()]]

    return run


# -- DictVectorizer: map(string|int64, V) -> tensor(V) [1, len(vocabulary)] --------------


def _vocabulary(node: ir.Node) -> list[Any] | None:
    ints, strings = _attr(node, "int64_vocabulary"), _attr(node, "string_vocabulary")
    if (ints is None) == (strings is None):
        return None
    return [int(v) for v in ints] if ints is not None else [str(v) for v in strings]


def _map_parts(value: ir.Value | None) -> tuple[int, int] | None:
    """(key type, value element type) of a plain map(K, tensor(V)) value, else None."""
    type_proto = map_type_of(value)
    if type_proto is None or type_proto.WhichOneof("value") != "map_type":
        return None
    inner = type_proto.map_type.value_type
    if inner.WhichOneof("value") != "tensor_type":
        return None
    return type_proto.map_type.key_type, inner.tensor_type.elem_type


def _dict_vectorizer_support(node: ir.Node) -> str:
    vocabulary = _vocabulary(node)
    if vocabulary is None:
        return "needs exactly one of int64_vocabulary and string_vocabulary"
    parts = _map_parts(node.inputs[0])
    if parts is None:
        return "input is not a typed map(K, tensor(V))"
    key, element = parts
    string_keys = isinstance(vocabulary[0], str) if vocabulary else key == onnx.TensorProto.STRING
    if (key == onnx.TensorProto.STRING) != string_keys:
        return "the vocabulary's type differs from the map's key type"
    if element not in _VALUE_DTYPES:
        shown = proto_type_string(map_type_of(node.inputs[0]) or onnx.TypeProto())
        return f"{shown} input: only float, double and int64 map values run here"
    return ""


def _dict_vectorizer(node: ir.Node) -> HostStep:
    vocabulary = _vocabulary(node) or []
    index = {key: i for i, key in enumerate(vocabulary)}
    parts = _map_parts(node.inputs[0])
    assert parts is not None
    dtype = _VALUE_DTYPES[parts[1]]

    def run(inputs: list[Any]) -> list[Any]:
        row = np.zeros((1, len(vocabulary)), dtype)
        for key, value in inputs[0].items():
            at = index.get(key)
            if at is not None:
                row[0, at] = value
        return [row]

    return run


# -- CastMap: map(int64, float) -> tensor(float|int64|string) [1, N] ----------------------

_CAST_TO = ("TO_FLOAT", "TO_INT64", "TO_STRING")
_STRING_PAD = "0.f"  # ORT pads string outputs with this literal


def _castmap_support(node: ir.Node) -> str:
    parts = _map_parts(node.inputs[0])
    if parts != (onnx.TensorProto.INT64, onnx.TensorProto.FLOAT):
        shown = proto_type_string(map_type_of(node.inputs[0]) or onnx.TypeProto())
        return f"{shown} input: only map(int64,tensor(float)) runs here"
    if _attr(node, "cast_to", "TO_FLOAT") not in _CAST_TO:
        return f"cast_to {_attr(node, 'cast_to')!r}: one of {', '.join(_CAST_TO)}"
    form = _attr(node, "map_form", "DENSE")
    if form not in ("DENSE", "SPARSE"):
        return f"map_form {form!r}: DENSE or SPARSE"
    if form == "SPARSE" and int(_attr(node, "max_map", 1)) < 1:
        return "max_map must be at least 1 for map_form SPARSE"
    return ""


def _to_int64(values: np.ndarray) -> np.ndarray:
    """C++'s static_cast<int64_t>(float) as ORT's x86 build computes it."""
    wide = values.astype(np.float64)
    fits = np.isfinite(wide) & (wide >= -(2.0**63)) & (wide < 2.0**63)
    out = np.full(values.shape, _INT64_MIN, np.int64)
    out[fits] = np.trunc(wide[fits]).astype(np.int64)
    return out


def _castmap(node: ir.Node) -> HostStep:
    cast_to = _attr(node, "cast_to", "TO_FLOAT")
    sparse = _attr(node, "map_form", "DENSE") == "SPARSE"
    max_map = int(_attr(node, "max_map", 1))

    def run(inputs: list[Any]) -> list[Any]:
        items = sorted(inputs[0].items())
        if sparse:
            if any(key < 0 for key, _ in items):
                raise _fail(node, "a key is negative; SPARSE map_form takes keys >= 0")
            present = np.zeros(max_map, bool)
            values = np.zeros(max_map, np.float32)
            for key, value in items:
                if key < max_map:  # ORT ignores keys past max_map
                    present[key], values[key] = True, value
        else:
            present = np.ones(len(items), bool)
            values = np.array([v for _, v in items], np.float32)
        if cast_to == "TO_FLOAT":
            return [values.reshape(1, -1)]
        if cast_to == "TO_INT64":
            return [np.where(present, _to_int64(values), 0).reshape(1, -1)]
        text = [f"{v:f}" if p else _STRING_PAD for v, p in zip(values.tolist(), present)]
        return [np.array(text, dtype=object).reshape(1, -1)]

    return run


_SUPPORT: dict[str, Callable[[ir.Node], str]] = {
    "ZipMap": _zipmap_support,
    "DictVectorizer": _dict_vectorizer_support,
    "CastMap": _castmap_support,
}
_STEPS: dict[str, Callable[[ir.Node], HostStep]] = {
    "ZipMap": _zipmap,
    "DictVectorizer": _dict_vectorizer,
    "CastMap": _castmap,
}
