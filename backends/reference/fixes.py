"""Spec-correct replacements for the few onnx.reference kernels that deviate from the spec.

Found by running the same models on ONNX Runtime (onnx 1.23.2), each fix tested against ORT:
- BatchNormalization before opset 14: the evaluator computes batch statistics (training mode)
  even for an inference node (opset 9..13) or crashes (opset 6..8).
- Softmax / LogSoftmax / Hardmax before opset 13: the spec flattens the input to 2-D at `axis`
  (default 1); the evaluator normalises along `axis` alone, defaulting to -1.
- LRN (every opset): the evaluator's window and scaling differ from the spec's
  square_sum over channels [c - floor((size-1)/2), c + ceil((size-1)/2)].
- Loop: the evaluator concatenates scan outputs (np.vstack) where the spec stacks them along a
  new first axis ([1, 6] per iteration gave [N, 6], not [N, 1, 6]; scalars gave [N, 1]), and an
  absent `cond` input ran no iteration at all.
- DequantizeLinear before opset 19: the evaluator has no kernel; opset 19's computes the same
  for the uint8/int8/int32 inputs those opsets allow.
Other opsets delegate to the evaluator's own kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx.reference.op_run import OpRun
from onnx.reference.ops import load_op
from onnx.reference.ops.op_loop import Loop as _EvaluatorLoop

from xinrt.run_stop import current_run_stop


def _opset(op: OpRun) -> int:
    return int(op.run_params["opsets"].get("", op.run_params["opsets"].get("ai.onnx", 1)))


def _original(op: OpRun, *inputs: np.ndarray) -> Any:
    """Run the evaluator's own kernel for this node (attributes taken from the node)."""
    kernel = load_op("", op.onnx_node.op_type, _opset(op))(op.onnx_node, op.run_params)
    return kernel.run(*inputs)


def _axis(op: OpRun) -> int:
    """The node's own axis attribute, else the opset<13 default of 1 (not the newest schema's)."""
    given = {a.name: a.i for a in op.onnx_node.attribute}
    return int(given.get("axis", 1))


class BatchNormalization(OpRun):
    op_domain = ""

    def _run(self, x, scale, bias, mean, var, **attributes):  # type: ignore[override]
        if _opset(self) >= 14 or len(self.onnx_node.output) > 1:
            return _original(self, x, scale, bias, mean, var)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        epsilon = attributes.get("epsilon", 1e-5)
        y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon)
        return ((y * scale.reshape(shape) + bias.reshape(shape)).astype(x.dtype),)


def _coerced(x: np.ndarray, axis: int) -> tuple[np.ndarray, tuple[int, ...]]:
    axis = axis % x.ndim if x.ndim else 0
    rows = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(rows, -1), x.shape


class Softmax(OpRun):
    op_domain = ""

    def _run(self, x, axis=None):  # type: ignore[override]
        if _opset(self) >= 13:
            return _original(self, x)
        flat, shape = _coerced(x, _axis(self))
        shifted = np.exp(flat - flat.max(axis=1, keepdims=True))
        return ((shifted / shifted.sum(axis=1, keepdims=True)).reshape(shape).astype(x.dtype),)


class LogSoftmax(OpRun):
    op_domain = ""

    def _run(self, x, axis=None):  # type: ignore[override]
        if _opset(self) >= 13:
            return _original(self, x)
        flat, shape = _coerced(x, _axis(self))
        shifted = flat - flat.max(axis=1, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return (out.reshape(shape).astype(x.dtype),)


class Hardmax(OpRun):
    op_domain = ""

    def _run(self, x, axis=None):  # type: ignore[override]
        if _opset(self) >= 13:
            return _original(self, x)
        flat, shape = _coerced(x, _axis(self))
        out = np.zeros_like(flat)
        if flat.size:
            out[np.arange(flat.shape[0]), flat.argmax(axis=1)] = 1
        return (out.reshape(shape),)


class LRN(OpRun):
    op_domain = ""

    def _run(self, x, alpha=None, beta=None, bias=None, size=None):  # type: ignore[override]
        given = {a.name: a for a in self.onnx_node.attribute}
        alpha = given["alpha"].f if "alpha" in given else 1e-4
        beta = given["beta"].f if "beta" in given else 0.75
        bias = given["bias"].f if "bias" in given else 1.0
        size = int(given["size"].i)
        channels = x.shape[1]
        squares = x.astype(np.float64) ** 2
        window = np.zeros_like(squares)
        before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
        for c in range(channels):
            window[:, c] = squares[:, max(0, c - before) : min(channels, c + after + 1)].sum(axis=1)
        return ((x / (bias + alpha / size * window) ** beta).astype(x.dtype),)


class Loop(_EvaluatorLoop):
    op_domain = ""

    def _run(  # type: ignore[override]
        self, M, cond, *carried, context=None, body=None, attributes=None, bindings=None
    ):
        names = self.body.input_names
        going = True if cond is None else bool(cond)
        if not going or (M is not None and int(M) <= 0):
            return super()._run(
                M, cond, *carried, context=context, attributes=attributes, bindings=bindings
            )
        inputs: dict[str, Any] = dict.fromkeys(names)
        inputs.update(zip(names[2:], carried))
        inputs.update(context or {})
        scans: list[list[Any]] = [[] for _ in range(self.K)]
        it = 0
        stop = current_run_stop()  # RunOptions.terminate / timeout_s stop a long Loop here too
        while going and (M is None or it < int(M)):
            if stop is not None:
                stop.check()
            if names[0]:
                inputs[names[0]] = np.array(it, dtype=np.int64)
            if len(names) > 1 and names[1]:
                inputs[names[1]] = np.array(going)
            outputs = self._run_body(inputs, attributes=attributes, bindings=bindings)
            carried = tuple(outputs[1 : 1 + self.N])
            inputs.update(zip(names[2:], carried))
            for k in range(self.K):
                scans[k].append(outputs[1 + self.N + k])
            if cond is not None:  # without a cond input the body's cond output is ignored
                going = bool(outputs[0])
            it += 1
        return self._check_and_fix_outputs((*carried, *(np.stack(s) for s in scans)))


class DequantizeLinear(OpRun):
    op_domain = ""

    def _run(self, *inputs, **attributes):  # type: ignore[override]
        kernel = load_op("", "DequantizeLinear", max(19, _opset(self)))
        return kernel(self.onnx_node, self.run_params).run(*inputs)


SPEC_FIXES: list[type[OpRun]] = [
    BatchNormalization, Softmax, LogSoftmax, Hardmax, LRN, Loop, DequantizeLinear,
]  # fmt: skip
# Ops these fixes implement where onnx.reference has no kernel: the opset they start at.
IMPLEMENTED_HERE = {"DequantizeLinear": 10}
