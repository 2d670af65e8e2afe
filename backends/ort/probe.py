"""The one-node probe, ORT's capability fallback: a one-node model per distinct signature
(xinrt.one_node), which ORT tries to load on the execution provider alone; answers cached."""

from __future__ import annotations

import math
import re

import onnx
import onnx_ir as ir

from xinrt.one_node import SMALL_CONSTANT, OneNodeModel, one_node_model


def _small_constant(value: ir.Value, name: str) -> onnx.TensorProto | None:
    """Small constants (shapes, axes) stay constants; large ones become typed inputs."""
    const = value.const_value
    if const is None or math.prod(const.shape.numpy()) > SMALL_CONSTANT:
        return None
    tensor = ir.serde.serialize_tensor(const)
    tensor.name = name
    return tensor


def probe_model(node: ir.Node, graph: ir.Graph, ir_version: int) -> OneNodeModel | str:
    """The one-node model for a node (and its signature), or a reason it cannot be probed."""
    return one_node_model(node, graph, ir_version=max(ir_version, 3), constant=_small_constant)


def short_reason(message: str) -> str:
    """ORT's error, without its '[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED :' prefix, one line."""
    line = message.strip().splitlines()[0] if message.strip() else "session creation failed"
    line = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*", "", line)
    return line[:240]
