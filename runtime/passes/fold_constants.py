"""Fold small constant sub-graphs (shape arithmetic: Shape -> Gather -> Concat -> Reshape ...).

Only ops whose onnx.reference kernels are exact are folded, only when every input is a constant
(or, for Shape/Size, the input's shape is static), and only when the result is small: weights
are never duplicated.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir

from ..graph_utils import name_of, opset_of, subgraphs

_FOLDABLE = {
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Abs",
    "Cast",
    "Concat",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Slice",
    "Reshape",
    "Range",
    "Equal",
    "Less",
    "Greater",
    "Not",
    "And",
    "Or",
    "Where",
    "Expand",
    "ConstantOfShape",
    "ReduceProd",
    "ReduceSum",
    "Min",
    "Max",
    "Identity",
    "Floor",
    "Ceil",
    "Sqrt",
}
_MAX_ELEMENTS = 1024  # results larger than this stay computed at run time


def _static_dims(value: ir.Value | None) -> list[int] | None:
    if value is None or value.shape is None:
        return None
    dims = [d for d in value.shape if isinstance(d, int)]
    return dims if len(dims) == len(value.shape) else None


def _shape_op(node: ir.Node) -> np.ndarray | None:
    dims = _static_dims(node.inputs[0])
    if dims is None:
        return None
    if node.op_type == "Size":
        return np.array(int(np.prod(dims, dtype=np.int64)), dtype=np.int64)
    start = node.attributes.get_int("start", 0)
    end = node.attributes.get_int("end", len(dims))
    return np.array(dims[start:end], dtype=np.int64)


def _evaluate(node: ir.Node, opset: int) -> list[np.ndarray] | None:
    inputs = [v for v in node.inputs]
    if any(v is not None and v.const_value is None for v in inputs):
        return None
    try:  # serializing may fail too (a malformed tensor attribute; tests/fuzz)
        proto = ir.serde.serialize_node(node)
        initializers = []
        for value in inputs:
            if value is not None:
                tensor = ir.serde.serialize_tensor(value.const_value)  # type: ignore[arg-type]
                tensor.name = name_of(value)
                initializers.append(tensor)
        outputs = [onnx.helper.make_empty_tensor_value_info(name_of(v)) for v in node.outputs]
        graph = onnx.helper.make_graph([proto], "fold", [], outputs, initializer=initializers)
        model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
        from onnx.reference import ReferenceEvaluator  # only when there is something to fold

        return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, {})]
    except Exception:  # folding is an optimisation: anything odd stays a node
        return None


def fold_constants(model: ir.Model) -> ir.Model:
    """Replace foldable nodes by initializers holding their (small) results."""
    graph = model.graph
    for node in list(graph):
        if node.domain not in ("", "ai.onnx") or any(True for _ in subgraphs(node)):
            continue
        if node.op_type in ("Shape", "Size"):
            result = _shape_op(node)
            results = None if result is None else [result]
        elif node.op_type in _FOLDABLE:
            results = _evaluate(node, opset_of(node, graph.opset_imports))
        else:
            continue
        if results is None or any(r.size > _MAX_ELEMENTS for r in results):
            continue
        if len(results) != len(node.outputs) or any(o.is_graph_output() for o in node.outputs):
            continue
        replacements = []
        for output, array in zip(node.outputs, results):
            value = ir.Value(
                shape=ir.Shape(array.shape),
                type=ir.TensorType(ir.DataType.from_numpy(array.dtype)),
                const_value=ir.tensor(array),
            )
            output.replace_all_uses_with(value)
            replacements.append((output, value))
        graph.remove(node, safe=True)
        for output, value in replacements:
            value.name = name_of(output)
            value.const_value.name = value.name  # type: ignore[union-attr]
            graph.register_initializer(value)
    return model
