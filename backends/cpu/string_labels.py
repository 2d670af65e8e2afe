"""Classifiers with string class labels on `cpu`, which has no string tensors: the native
kernel runs the node with the labels 0..n-1 (its "int-label twin"), and a host step turns each
label index into its string. ORT picks a label by its position in the label list whatever the
labels' type, so the twin's index is the position of the string label."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.graph_utils import name_of

from .host_ops import HostStep

# The attribute holding each classifier's int64 labels, in place of classlabels_strings.
_INT_LABELS = {
    "LinearClassifier": "classlabels_ints",
    "SVMClassifier": "classlabels_ints",
    "TreeEnsembleClassifier": "classlabels_int64s",
}
_ML = "ai.onnx.ml"


def is_string_label_classifier(node: ir.Node) -> bool:
    """An ai.onnx.ml classifier whose class labels are strings."""
    return (
        node.domain == _ML
        and node.op_type in _INT_LABELS
        and "classlabels_strings" in node.attributes
    )


def string_labels(node: ir.Node) -> list[str]:
    return [str(label) for label in node.attributes["classlabels_strings"].value]


def int_label_twin(node: ir.Node) -> ir.Node:
    """The node with labels 0..n-1, reading and writing fresh values of the same names (the
    model's graph is left as it is); its first output is the label index (int64)."""
    count = len(string_labels(node))
    attributes = [a for name, a in node.attributes.items() if name != "classlabels_strings"]
    attributes.append(ir.AttrInt64s(_INT_LABELS[node.op_type], list(range(count))))
    inputs = [
        None if v is None else ir.Value(name=name_of(v), shape=v.shape, type=v.type)
        for v in node.inputs
    ]
    outputs = [ir.Value(name=name_of(v), shape=v.shape, type=v.type) for v in node.outputs]
    if outputs:
        outputs[0].type = ir.TensorType(ir.DataType.INT64)
    return ir.Node(
        _ML,
        node.op_type,
        inputs,
        attributes,
        outputs=outputs,
        version=node.version,
        name=name_of(node),
    )


def string_label_step(node: ir.Node, native: Any, twin: ir.Node) -> HostStep:
    """The host step: run the twin's native executable, then look the labels up."""
    labels = np.array(string_labels(node), dtype=object)
    input_names = [name_of(v) for v in twin.inputs if v is not None]
    output_names = [name_of(v) for v in twin.outputs]

    def run(inputs: list[Any]) -> list[Any]:
        results = native.run(dict(zip(input_names, inputs)))
        index = np.asarray(results[output_names[0]])
        return [labels[index], *(results[name] for name in output_names[1:])]

    return run
