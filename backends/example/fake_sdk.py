"""A stand-in for a vendor NPU SDK, so CI tests the example backend's logic anywhere.

It behaves like the real ones do (docs/backends/rknn.md): it compiles an ONNX model for a
target or raises with its own message, emulates fp16 by rounding every tensor it computes and
int8 by quantizing inputs and outputs with per-tensor scales taken from calibration data (so a
rebuild that forgets the user's calibration data shows in the numbers), and misbehaves on
request so the worker's isolation is tested: a node named `crash_me` aborts the process (like
nncase's .NET exceptions), `hang_me` never returns, `wrong_me` computes a wrong answer (the
verify-before-use check must catch it), an input holding NaN aborts a run (an SDK crashing on
bad data) and one holding +inf makes the adapter answer garbage on the pipe.
"""

from __future__ import annotations

import json
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
    """A "compiled" model: the reference evaluator, with fp16 rounding or int8 quantization."""

    def __init__(
        self, model: onnx.ModelProto, precision: str, scales: dict[str, float] | None = None
    ) -> None:
        self.model = model
        self.precision = precision
        self.scales = dict(scales or {})  # int8: tensor name -> quantization step
        self.wrong = any(n.name == "wrong_me" for n in model.graph.node)
        self.evaluator = ReferenceEvaluator(model)
        self.outputs = [v.name for v in model.graph.output]

    def calibrate(self, samples: list[dict[str, np.ndarray]]) -> None:
        """int8: one scale per input and output, from the largest magnitude seen."""
        for sample in samples:
            results = dict(zip(self.outputs, self.evaluator.run(None, sample)))
            for name, value in {**sample, **results}.items():
                peak = float(np.max(np.abs(value))) / 127.0 if np.size(value) else 0.0
                self.scales[name] = max(self.scales.get(name, 0.0), peak)

    def serialize(self) -> bytes:
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        if self.scales:
            entry = model.metadata_props.add()
            entry.key, entry.value = "fake_sdk.scales", json.dumps(self.scales)
        return model.SerializeToString()

    def _quantize(self, name: str, value: np.ndarray) -> np.ndarray:
        scale = self.scales.get(name, 0.0) or 1.0
        return (np.clip(np.round(value / scale), -127, 127) * scale).astype(value.dtype)

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        if any(np.isnan(v).any() for v in feeds.values() if v.dtype.kind == "f"):
            os.abort()
        if self.precision == "fp16":
            feeds = {k: v.astype(np.float16).astype(v.dtype) for k, v in feeds.items()}
        if self.precision == "int8":
            feeds = {k: self._quantize(k, v) for k, v in feeds.items()}
        results = [np.asarray(r) for r in self.evaluator.run(None, feeds)]
        if self.precision == "fp16":
            results = [r.astype(np.float16).astype(r.dtype) for r in results]
        if self.precision == "int8":
            results = [self._quantize(n, r) for n, r in zip(self.outputs, results)]
        if self.wrong:
            results = [r + 1.0 for r in results]
        return results


def compile_model(
    model_bytes: bytes,
    target: str,
    precision: str,
    calibration: list[dict[str, np.ndarray]] | None = None,
) -> CompiledModel:
    """Compile for a target (int8 calibrates on `calibration`), or raise FakeSdkError naming
    the first op it lacks."""
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
    compiled = CompiledModel(model, precision)
    if precision == "int8":
        if not calibration:
            raise FakeSdkError("int8 needs a calibration dataset")
        compiled.calibrate(calibration)
    return compiled


def load_compiled(data: bytes, precision: str) -> CompiledModel:
    """Reload an artifact that `CompiledModel.serialize` wrote."""
    model = onnx.load_from_string(data)
    scales = {p.key: p.value for p in model.metadata_props}.get("fake_sdk.scales")
    return CompiledModel(model, precision, json.loads(scales) if scales else None)
