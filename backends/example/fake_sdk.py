"""A stand-in for a vendor NPU SDK, so CI tests the example backend's logic anywhere.

It behaves like the real ones do (docs/backends/rknn.md): it compiles an ONNX model for a
target or raises with its own message, emulates fp16 by rounding every tensor it computes,
and misbehaves on request so the worker's isolation is tested: a node named `crash_me` aborts
the process (like nncase's .NET exceptions), `hang_me` never returns, `wrong_me` computes a
wrong answer (the verify-before-use check must catch it), and an input holding NaN aborts
a run (an SDK crashing on bad data).
"""

from __future__ import annotations

import os
import time

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

__version__ = "1.0.0"
SUPPORTED_OPS = frozenset(
    "Add Sub Mul Div Neg Relu Sigmoid Tanh MatMul Gemm Conv MaxPool AveragePool "
    "GlobalAveragePool Softmax Reshape Flatten Transpose Concat Identity".split()
)


class FakeSdkError(Exception):
    """What the fake SDK raises for a model it cannot compile."""


class CompiledModel:
    """A "compiled" model: the reference evaluator, with fp16 rounding when asked."""

    def __init__(self, model: onnx.ModelProto, precision: str) -> None:
        self.model = model
        self.precision = precision
        self.wrong = any(n.name == "wrong_me" for n in model.graph.node)
        self.evaluator = ReferenceEvaluator(model)
        self.outputs = [v.name for v in model.graph.output]

    def serialize(self) -> bytes:
        return self.model.SerializeToString()

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        if any(np.isnan(v).any() for v in feeds.values() if v.dtype.kind == "f"):
            os.abort()
        if self.precision == "fp16":
            feeds = {k: v.astype(np.float16).astype(v.dtype) for k, v in feeds.items()}
        results = [np.asarray(r) for r in self.evaluator.run(None, feeds)]
        if self.precision == "fp16":
            results = [r.astype(np.float16).astype(r.dtype) for r in results]
        if self.wrong:
            results = [r + 1.0 for r in results]
        return results


def compile_model(model_bytes: bytes, target: str, precision: str) -> CompiledModel:
    """Compile for a target, or raise FakeSdkError naming the first op it lacks."""
    if target != "v1":
        raise FakeSdkError(f"unknown target {target}")
    model = onnx.load_from_string(model_bytes)
    for node in model.graph.node:
        if node.name == "crash_me":
            os.abort()
        if node.name == "hang_me":
            time.sleep(3600)
        if node.op_type not in SUPPORTED_OPS:
            raise FakeSdkError(f"Op not supported: {node.op_type} ({node.name})")
    return CompiledModel(model, precision)


def load_compiled(data: bytes, precision: str) -> CompiledModel:
    """Reload an artifact that `CompiledModel.serialize` wrote."""
    return CompiledModel(onnx.load_from_string(data), precision)
