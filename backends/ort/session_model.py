"""A graph as ORT session input without copying its weights: large initializers are declared
with external data and handed to ORT as OrtValues over the same memory
(SessionOptions.add_external_initializers), so building the model costs milliseconds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir

from xinrt.graph_utils import name_of
from xinrt.ml_types import serialize_value

from .runtime import onnxruntime

_INLINE_LIMIT = 4096  # initializers up to this many elements stay in the model bytes
_MEMORY_LOCATION = "xinrt-in-memory-initializer"  # never read: ORT takes the OrtValue instead


@dataclass
class SessionModel:
    """The model for ORT (its bytes, or the path of the model file as the user gave it) plus
    the in-memory initializers that must go with them."""

    model: bytes | str
    external: dict[str, np.ndarray] = field(default_factory=dict)
    _values: list[Any] = field(default_factory=list)  # the OrtValues ORT was given

    def attach(self, options: Any) -> None:
        """Give ORT the in-memory initializers; keep them alive as long as this object."""
        if not self.external:
            return
        ort = onnxruntime()
        names = list(self.external)
        self._values = [ort.OrtValue.ortvalue_from_numpy(self.external[n]) for n in names]
        options.add_external_initializers(names, self._values)


def _exchangeable(array: np.ndarray) -> bool:
    """Whether ORT can take the array as an OrtValue (plain numpy numeric types only)."""
    return array.dtype.kind in "biuf" and type(array.dtype).__module__.startswith("numpy")


def _external_tensor(name: str, value: ir.Value, nbytes: int) -> onnx.TensorProto:
    const = value.const_value
    assert const is not None
    tensor = onnx.TensorProto(name=name, data_type=int(const.dtype), dims=list(const.shape.numpy()))
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, text in (("location", _MEMORY_LOCATION), ("offset", "0"), ("length", str(nbytes))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, text
    return tensor


def ir_version_for(opset_imports: Mapping[str, int]) -> int:
    """An IR version every opset of the graph allows (at least 10: ORT >= 1.17 reads it)."""
    opsets = [onnx.helper.make_opsetid(d, v) for d, v in opset_imports.items()]
    return max(10, onnx.helper.find_min_ir_version_for(opsets, ignore_unknown=True))


def build_session_model(
    nodes: Iterable[ir.Node],
    inputs: Iterable[ir.Value],
    outputs: Iterable[ir.Value],
    initializers: Iterable[ir.Value],
    opset_imports: Mapping[str, int],
    ir_version: int,
    name: str = "xinrt",
    inline_everything: bool = False,
) -> SessionModel:
    """The model ORT should load for these nodes; weights stay where they are unless
    `inline_everything` (for an ORT that refuses in-memory initializers)."""
    graph = onnx.GraphProto(name=name)
    graph.input.extend(serialize_value(v) for v in inputs)
    graph.output.extend(serialize_value(v) for v in outputs)
    graph.node.extend(ir.serde.serialize_node(n) for n in nodes)
    external: dict[str, np.ndarray] = {}
    for value in initializers:
        const = value.const_value
        assert const is not None, name_of(value)
        array = None
        if not inline_everything and const.size > _INLINE_LIMIT:
            array = np.ascontiguousarray(const.numpy())
            if not _exchangeable(array):
                array = None
        if array is not None:
            external[name_of(value)] = array
            graph.initializer.append(_external_tensor(name_of(value), value, array.nbytes))
        else:
            tensor = ir.serde.serialize_tensor(const)
            tensor.name = name_of(value)
            graph.initializer.append(tensor)
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid(d, v) for d, v in opset_imports.items()]
    )
    model.ir_version = ir_version
    return SessionModel(model.SerializeToString(), external)


def graph_session_model(graph: ir.Graph, inline_everything: bool = False) -> SessionModel:
    """The whole graph as the partitioner sees it, for an ORT session."""
    return build_session_model(
        graph,
        graph.inputs,
        graph.outputs,
        graph.initializers.values(),
        graph.opset_imports,
        ir_version_for(graph.opset_imports),
        name=graph.name or "xinrt",
        inline_everything=inline_everything,
    )


def proto_session_model(model: onnx.ModelProto) -> SessionModel:
    """An ONNX model as given (ModelProto) for ORT, its large raw-data weights handed over in
    memory instead of serializing them again (serializing 100 MB of weights costs as much as
    ORT's own session creation)."""
    light = onnx.ModelProto()
    for field_name in (
        "ir_version",
        "producer_name",
        "producer_version",
        "domain",
        "model_version",
    ):
        setattr(light, field_name, getattr(model, field_name))
    light.opset_import.extend(model.opset_import)
    light.metadata_props.extend(model.metadata_props)
    light.functions.extend(model.functions)
    source, graph = model.graph, light.graph
    graph.name = source.name
    for repeated in ("node", "input", "output", "value_info", "sparse_initializer"):
        getattr(graph, repeated).extend(getattr(source, repeated))
    external: dict[str, np.ndarray] = {}
    for tensor in source.initializer:
        array = _raw_array(tensor)
        if array is None:
            graph.initializer.append(tensor)
            continue
        external[tensor.name] = array
        proxy = onnx.TensorProto(name=tensor.name, data_type=tensor.data_type, dims=tensor.dims)
        proxy.data_location = onnx.TensorProto.EXTERNAL
        for key, text in (
            ("location", _MEMORY_LOCATION),
            ("offset", "0"),
            ("length", str(array.nbytes)),
        ):
            entry = proxy.external_data.add()
            entry.key, entry.value = key, text
        graph.initializer.append(proxy)
    return SessionModel(light.SerializeToString(), external)


def _raw_array(tensor: onnx.TensorProto) -> np.ndarray | None:
    """The tensor's raw bytes as a numpy array, for large plain numeric tensors; else None."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL or not tensor.HasField("raw_data"):
        return None
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
    except KeyError:
        return None
    count = int(np.prod(tensor.dims)) if tensor.dims else 1
    if count <= _INLINE_LIMIT or dtype.kind not in "biuf":
        return None
    if not type(dtype).__module__.startswith("numpy"):
        return None
    raw = tensor.raw_data  # each read of a bytes field copies it: read it once
    if dtype.itemsize * count != len(raw):
        return None
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(tuple(tensor.dims))
