"""Sparse tensors in a model become dense at load, as ORT does: graph.sparse_initializer and
Constant(sparse_value). Backends (and onnx_ir) then see ordinary initializers."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from .errors import InvalidModelError
from .lenient_load import proto_graphs


def densify_sparse_initializers(proto: onnx.ModelProto, label: str) -> None:
    """Replace every sparse initializer and sparse Constant by its dense tensor, in place."""
    for graph in proto_graphs(proto.graph):
        for sparse in graph.sparse_initializer:
            graph.initializer.append(dense_tensor(sparse, label))
        del graph.sparse_initializer[:]
        for node in graph.node:
            if node.op_type != "Constant" or node.domain not in ("", "ai.onnx"):
                continue
            for attribute in node.attribute:
                if attribute.name == "sparse_value":
                    dense = dense_tensor(attribute.sparse_tensor, label)
                    attribute.Clear()
                    attribute.CopyFrom(onnx.helper.make_attribute("value", dense))


def dense_tensor(sparse: onnx.SparseTensorProto, label: str) -> onnx.TensorProto:
    """The dense TensorProto of a sparse one (indices linear [NNZ] or coordinates [NNZ, rank])."""
    name = sparse.values.name or "(unnamed)"
    dims = [int(d) for d in sparse.dims]
    try:
        values = numpy_helper.to_array(sparse.values).reshape(-1)
        indices = numpy_helper.to_array(sparse.indices).astype(np.int64)
    except Exception as exc:  # a malformed values/indices tensor: the model's fault
        raise InvalidModelError(
            f"{label}: sparse initializer {name!r} is malformed: {exc}"
        ) from None
    if any(d < 0 for d in dims):
        raise InvalidModelError(f"{label}: sparse initializer {name!r} has negative dims {dims}")
    size = int(np.prod(dims, dtype=np.int64))
    if indices.ndim == 2 and indices.shape[1] == len(dims) and len(dims) > 0:
        if np.any(indices < 0) or np.any(indices >= np.array(dims, dtype=np.int64)):
            raise _out_of_range(label, name, dims)
        flat = np.ravel_multi_index(tuple(indices.T), dims) if indices.size else indices[:, 0]
    elif indices.ndim == 1:
        flat = indices
    else:
        raise InvalidModelError(
            f"{label}: sparse initializer {name!r} has indices of shape {list(indices.shape)}; "
            f"expected [{values.size}] or [{values.size}, {len(dims)}]"
        )
    if flat.shape[0] != values.size:
        raise InvalidModelError(
            f"{label}: sparse initializer {name!r} has {values.size} values and "
            f"{flat.shape[0]} indices"
        )
    if np.any(flat < 0) or np.any(flat >= size):
        raise _out_of_range(label, name, dims)
    try:
        dense = np.zeros(size, dtype=values.dtype)
    except (MemoryError, ValueError):
        raise InvalidModelError(
            f"{label}: sparse initializer {name!r} of shape {dims} is too large to densify"
        ) from None
    dense[flat] = values
    return numpy_helper.from_array(dense.reshape(dims), name=sparse.values.name)


def _out_of_range(label: str, name: str, dims: list[int]) -> InvalidModelError:
    return InvalidModelError(
        f"{label}: sparse initializer {name!r} has an index outside its shape {dims}"
    )
