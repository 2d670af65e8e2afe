"""Fold an inference BatchNormalization into the Conv that feeds it (new weights and bias)."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from ..graph_utils import opset_of


def _constant(value: ir.Value | None) -> np.ndarray | None:
    if value is None or value.const_value is None:
        return None
    array = value.const_value.numpy()
    return array if array.dtype == np.float32 else None


def _int_attribute(node: ir.Node, name: str, default: int) -> int:
    attr = node.attributes.get(name)
    return attr.as_int() if attr is not None else default


def _foldable(conv: ir.Node, bn: ir.Node, opset: int) -> bool:
    if bn.op_type != "BatchNormalization" or bn.domain not in ("", "ai.onnx"):
        return False
    if len([o for o in bn.outputs if o.name]) > 1 or _int_attribute(bn, "training_mode", 0):
        return False
    if opset < 9 and _int_attribute(bn, "spatial", 1) != 1:
        return False
    out = conv.outputs[0]
    return len(out.uses()) == 1 and not out.is_graph_output()


def fold_batchnorm_into_conv(model: ir.Model) -> ir.Model:
    """Conv(x, W, B) -> BN(scale, bias, mean, var) becomes Conv(x, W * s, (B - mean) * s + bias)
    with s = scale / sqrt(var + epsilon), when every parameter is a float32 constant."""
    graph = model.graph
    for conv in list(graph):
        if conv.op_type != "Conv" or conv.domain not in ("", "ai.onnx"):
            continue
        uses = conv.outputs[0].uses()
        if len(uses) != 1:
            continue
        bn = next(iter(uses)).node
        if bn.graph is not graph or not _foldable(conv, bn, opset_of(bn, graph.opset_imports)):
            continue
        weight = _constant(conv.inputs[1])
        params = [_constant(v) for v in bn.inputs[1:5]]
        bias = _constant(conv.inputs[2]) if len(conv.inputs) > 2 and conv.inputs[2] else None
        constants = [p for p in params if p is not None]
        if weight is None or len(constants) != 4:
            continue
        if len(conv.inputs) > 2 and conv.inputs[2] is not None and bias is None:
            continue
        scale, shift, mean, var = constants
        factor = scale / np.sqrt(var + bn.attributes.get_float("epsilon", 1e-5))
        new_weight = (weight * factor.reshape(-1, *([1] * (weight.ndim - 1)))).astype(np.float32)
        old_bias = bias if bias is not None else np.zeros(weight.shape[0], np.float32)
        new_bias = ((old_bias - mean) * factor + shift).astype(np.float32)
        base = conv.name or "conv"
        replaced = [conv.inputs[1], *(conv.inputs[2:3]), *bn.inputs[1:5]]
        w_value = _register(graph, f"{base}_bn_folded_W", new_weight)
        b_value = _register(graph, f"{base}_bn_folded_B", new_bias)
        if len(conv.inputs) < 3:
            conv.resize_inputs(3)
        conv.replace_input_with(1, w_value)
        conv.replace_input_with(2, b_value)
        bn_out, conv_out = bn.outputs[0], conv.outputs[0]
        bn_out.replace_all_uses_with(conv_out, replace_graph_outputs=True)
        name = bn_out.name
        graph.remove(bn, safe=True)
        conv_out.name = name if conv_out.is_graph_output() else conv_out.name
        # Dropped at once, not after the loop: a model's weights are then never held twice.
        _drop_unused_initializers(graph, [v for v in replaced if v is not None])
    return model


def _register(graph: ir.Graph, name: str, array: np.ndarray) -> ir.Value:
    unique, index = name, 1
    while unique in graph.initializers:
        unique, index = f"{name}_{index}", index + 1
    value = ir.Value(
        name=unique,
        shape=ir.Shape(array.shape),
        type=ir.TensorType(ir.DataType.FLOAT),
        const_value=ir.tensor(array, name=unique),
    )
    graph.register_initializer(value)
    return value


def _drop_unused_initializers(graph: ir.Graph, values: list[ir.Value]) -> None:
    for value in values:
        name = value.name
        if (
            name is not None
            and name in graph.initializers
            and graph.initializers[name] is value
            and not value.uses()
            and not value.is_graph_output()
            and not value.is_graph_input()
        ):
            del graph.initializers[name]
