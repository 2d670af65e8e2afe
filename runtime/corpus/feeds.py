"""Seeded random feeds for a corpus model, from its declared inputs and its FeedSpec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from ..errors import InvalidArgumentError
from .entry import FeedSpec


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller feeds: graph inputs that are not initializers."""
    initializers = {t.name for t in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initializers]


def input_shape(value: onnx.ValueInfoProto, spec: FeedSpec) -> list[int]:
    """The concrete shape to feed: the spec's shape, else declared dims with symbols resolved."""
    if value.name in spec.shapes:
        return list(spec.shapes[value.name])
    tensor = value.type.tensor_type
    shape = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            shape.append(dim.dim_value)
        elif dim.HasField("dim_param") and dim.dim_param in spec.dims:
            shape.append(spec.dims[dim.dim_param])
        else:
            shape.append(spec.default_dim)
    return shape


def embedding_sizes(model: onnx.ModelProto) -> dict[str, int]:
    """Inputs used directly as Gather indices into an initializer: the table's row count, so
    that random token ids stay in range."""
    rows = {t.name: t.dims[0] for t in model.graph.initializer if t.dims}
    found: dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) > 1 and node.input[0] in rows:
            axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
            if axis == 0:
                bound = rows[node.input[0]]
                found[node.input[1]] = min(found.get(node.input[1], bound), bound)
    return found


def make_feeds(model_path: Path, spec: FeedSpec, seed: int = 0) -> dict[str, Any]:
    """One feed per input: floats standard normal, ints in [0, int_high) (or the embedding
    table they index), bools random; the spec's makers where it has them (a map input's maker
    returns a dict)."""
    model = onnx.load(str(model_path), load_external_data=False)
    rng = np.random.default_rng(seed)
    tables = embedding_sizes(model)
    feeds: dict[str, Any] = {}
    for value in graph_inputs(model):
        if value.type.HasField("map_type") and value.name in spec.values:
            feeds[value.name] = spec.values[value.name](rng, [], np.dtype(object))
            continue
        elem = value.type.tensor_type.elem_type
        if not value.type.HasField("tensor_type") or elem == 0:
            raise InvalidArgumentError(
                f"corpus model {model_path.name}: input {value.name!r} is not a typed tensor"
            )
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem))
        shape = input_shape(value, spec)
        if value.name in spec.values:
            feeds[value.name] = np.asarray(spec.values[value.name](rng, shape, dtype), dtype)
        elif dtype.kind == "f":
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[value.name] = rng.integers(0, 2, shape).astype(bool)
        elif dtype.kind in "iu":
            high = spec.int_high.get(value.name, tables.get(value.name, 10))
            feeds[value.name] = rng.integers(0, high, shape).astype(dtype)
        else:
            raise InvalidArgumentError(
                f"corpus model {model_path.name}: no random values for input {value.name!r} "
                f"of type {dtype}; give a value maker in its FeedSpec"
            )
    return feeds


def zeros(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    """A state input that starts at zero (recurrent state of a streaming model)."""
    return np.zeros(shape, dtype)


def ones(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    """An attention mask that lets every position through."""
    return np.ones(shape, dtype)


def unit_uniform(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    """Image-like values in [0, 1)."""
    return rng.random(shape).astype(dtype)


def constant(value: float | int):  # type: ignore[no-untyped-def]
    """A maker of a fixed value (a sample rate, a scalar option) of the declared shape."""

    def make(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
        return np.full(shape, value, dtype)

    return make
