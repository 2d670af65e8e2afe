"""One-node trial models for SDK capability probes, and the signature they are cached under.

Unlike ORT's probes, weights stay constants (NPU compilers fold or reject non-constant weights):
small constants keep their values (shapes, axes), large ones are replaced by seeded random
values of the same shape, so the signature needs only their shape and type.
"""

from __future__ import annotations

import hashlib

import numpy as np
import onnx
import onnx_ir as ir
from onnx import helper, numpy_helper

from xinrt.graph_utils import name_of, node_reads

_SMALL_CONSTANT = 4096


def _static_dims(value: ir.Value) -> list[int] | None:
    if value.shape is None:
        return None
    dims = [d for d in value.shape if isinstance(d, int)]
    return dims if len(dims) == len(value.shape) else None


def probe_model(node: ir.Node, graph: ir.Graph) -> tuple[onnx.ModelProto, str] | str:
    """(the one-node model, its signature), or why this node cannot be probed before compile."""
    rng = np.random.default_rng(0)
    inputs: list[onnx.ValueInfoProto] = []
    initializers: list[onnx.TensorProto] = []
    signature: list[object] = [node.domain, node.op_type]
    seen: set[str] = set()
    for value in node_reads(node):
        name = name_of(value) or ""
        if name in seen:
            continue
        seen.add(name)
        const = value.const_value
        if const is not None:
            array = const.numpy()
            if array.size > _SMALL_CONSTANT and array.dtype.kind == "f":
                array = rng.standard_normal(array.shape).astype(array.dtype) * 0.1
                signature.append(("weight", array.shape, array.dtype.str))
            else:
                signature.append(("const", array.shape, array.dtype.str, array.tobytes().hex()))
            initializers.append(numpy_helper.from_array(np.asarray(array), name))
            continue
        dims = _static_dims(value)
        if value.type is None or dims is None:
            return f"shape of input {name!r} is not static before compile"
        inputs.append(ir.serde.serialize_value(value))
        signature.append(("input", dims, value.dtype.name if value.dtype else "?"))
    outputs = [
        ir.serde.serialize_value(v)
        if v.type is not None
        else helper.make_empty_tensor_value_info(name_of(v))
        for v in node.outputs
        if name_of(v)
    ]
    if not inputs:
        return "node reads only constants (folded before it reaches an NPU)"
    proto = ir.serde.serialize_node(node)
    attributes = [a.SerializeToString(deterministic=True).hex() for a in proto.attribute]
    signature.append(attributes)
    opsets = sorted(graph.opset_imports.items())
    signature.append(opsets)
    model = helper.make_model(
        helper.make_graph([proto], "probe", inputs, outputs, initializer=initializers),
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
    )
    model.ir_version = 8
    key = hashlib.sha256(repr(signature).encode()).hexdigest()[:32]
    return model, key
