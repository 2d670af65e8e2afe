"""Benchmark models built with onnx.helper: a BERT-style encoder and a one-node model.

The encoder is laid out the way `torch.onnx.export` writes a BERT encoder at opset 17 with
static shapes: MatMul + Add projections, Reshape/Transpose to split heads, Softmax over
Q·Kᵀ/√d, Erf GELU, and LayerNormalization (or the ReduceMean/Sub/Pow/Sqrt/Div form older
exporters emit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Builder:
    """Collects nodes and seeded initializers, naming everything under a prefix."""

    def __init__(self, seed: int) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(seed)

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, shape: tuple[int, ...], std: float = 0.02) -> str:
        return self.constant(name, self.rng.normal(0.0, std, shape).astype(np.float32))

    def node(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def linear(self, x: str, prefix: str, n_in: int, n_out: int) -> str:
        """x @ W + b, as PyTorch exports nn.Linear on a 3-D input (MatMul then Add)."""
        product = self.node(
            "MatMul", [x, self.weight(f"{prefix}.weight", (n_in, n_out))], f"{prefix}/MatMul"
        )
        bias = self.weight(f"{prefix}.bias", (n_out,))
        return self.node("Add", [product, bias], f"{prefix}/Add")

    def layer_norm(self, x: str, prefix: str, hidden: int, fused: bool) -> str:
        gamma = self.constant(f"{prefix}.weight", np.ones(hidden, np.float32))
        beta = self.constant(f"{prefix}.bias", np.zeros(hidden, np.float32))
        if fused:
            return self.node(
                "LayerNormalization",
                [x, gamma, beta],
                f"{prefix}/LayerNorm",
                axis=-1,
                epsilon=1e-12,
            )
        mean = self.node("ReduceMean", [x], f"{prefix}/ReduceMean", axes=[-1], keepdims=1)
        centred = self.node("Sub", [x, mean], f"{prefix}/Sub")
        two = self.constant(f"{prefix}/two", np.array(2.0, np.float32))
        square = self.node("Pow", [centred, two], f"{prefix}/Pow")
        variance = self.node(
            "ReduceMean", [square], f"{prefix}/ReduceMean_1", axes=[-1], keepdims=1
        )
        eps = self.constant(f"{prefix}/eps", np.array(1e-12, np.float32))
        shifted = self.node("Add", [variance, eps], f"{prefix}/Add")
        std = self.node("Sqrt", [shifted], f"{prefix}/Sqrt")
        normed = self.node("Div", [centred, std], f"{prefix}/Div")
        scaled = self.node("Mul", [normed, gamma], f"{prefix}/Mul")
        return self.node("Add", [scaled, beta], f"{prefix}/Add_1")

    def gelu(self, x: str, prefix: str) -> str:
        """0.5 * x * (1 + erf(x / √2)): the exact GELU as PyTorch exports it before opset 20."""
        root2 = self.constant(f"{prefix}/sqrt2", np.array(math.sqrt(2.0), np.float32))
        one = self.constant(f"{prefix}/one", np.array(1.0, np.float32))
        half = self.constant(f"{prefix}/half", np.array(0.5, np.float32))
        scaled = self.node("Div", [x, root2], f"{prefix}/Div")
        erf = self.node("Erf", [scaled], f"{prefix}/Erf")
        shifted = self.node("Add", [erf, one], f"{prefix}/Add")
        product = self.node("Mul", [x, shifted], f"{prefix}/Mul")
        return self.node("Mul", [product, half], f"{prefix}/Mul_1")


def transformer_encoder(
    layers: int = 4,
    hidden: int = 256,
    heads: int = 4,
    sequence: int = 128,
    batch: int = 1,
    fused_layer_norm: bool = True,
    seed: int = 0,
) -> onnx.ModelProto:
    """A BERT-style encoder: input `hidden_states` [batch, sequence, hidden] -> same shape.

    Each layer: self-attention (Q/K/V projections, heads split by Reshape/Transpose,
    Softmax(Q·Kᵀ/√d)·V, output projection), residual + LayerNorm, a 4x feed-forward with Erf
    GELU, residual + LayerNorm. Weights are seeded N(0, 0.02) as BERT initialises them.
    """
    if hidden % heads:
        raise ValueError(f"hidden {hidden} must be a multiple of heads {heads}")
    head_dim = hidden // heads
    b = _Builder(seed)
    split = b.constant("shape/split_heads", np.array([batch, sequence, heads, head_dim], np.int64))
    merge = b.constant("shape/merge_heads", np.array([batch, sequence, hidden], np.int64))
    scale = b.constant("attention/sqrt_head_dim", np.array(math.sqrt(head_dim), np.float32))
    x = "hidden_states"
    for layer in range(layers):
        p = f"encoder.layer.{layer}"
        q = b.linear(x, f"{p}.attention.self.query", hidden, hidden)
        k = b.linear(x, f"{p}.attention.self.key", hidden, hidden)
        v = b.linear(x, f"{p}.attention.self.value", hidden, hidden)
        q = b.node(
            "Transpose",
            [b.node("Reshape", [q, split], f"{p}/q/Reshape")],
            f"{p}/q/Transpose",
            perm=[0, 2, 1, 3],
        )
        k = b.node(
            "Transpose",
            [b.node("Reshape", [k, split], f"{p}/k/Reshape")],
            f"{p}/k/Transpose",
            perm=[0, 2, 3, 1],
        )
        v = b.node(
            "Transpose",
            [b.node("Reshape", [v, split], f"{p}/v/Reshape")],
            f"{p}/v/Transpose",
            perm=[0, 2, 1, 3],
        )
        scores = b.node(
            "Div", [b.node("MatMul", [q, k], f"{p}/scores/MatMul"), scale], f"{p}/scores/Div"
        )
        probs = b.node("Softmax", [scores], f"{p}/Softmax", axis=-1)
        context = b.node("MatMul", [probs, v], f"{p}/context/MatMul")
        context = b.node("Transpose", [context], f"{p}/context/Transpose", perm=[0, 2, 1, 3])
        context = b.node("Reshape", [context, merge], f"{p}/context/Reshape")
        attention = b.linear(context, f"{p}.attention.output.dense", hidden, hidden)
        x = b.layer_norm(
            b.node("Add", [attention, x], f"{p}/attention/residual"),
            f"{p}.attention.output.LayerNorm",
            hidden,
            fused_layer_norm,
        )
        inner = b.gelu(b.linear(x, f"{p}.intermediate.dense", hidden, 4 * hidden), f"{p}/gelu")
        out = b.linear(inner, f"{p}.output.dense", 4 * hidden, hidden)
        x = b.layer_norm(
            b.node("Add", [out, x], f"{p}/output/residual"),
            f"{p}.output.LayerNorm",
            hidden,
            fused_layer_norm,
        )
    b.nodes[-1].output[0] = "last_hidden_state"
    shape = [batch, sequence, hidden]
    graph = helper.make_graph(
        b.nodes,
        f"bert_encoder_{layers}x{hidden}",
        [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, shape)],
        initializer=b.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="xinrt.bench"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def one_node_model(width: int = 16) -> onnx.ModelProto:
    """Add of two [1, width] inputs: measures per-run overhead, not compute."""
    shape = [1, width]
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"], name="add")],
        "one_node_add",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, shape),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, shape),
        ],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="xinrt.bench"
    )
    model.ir_version = 8
    return model
