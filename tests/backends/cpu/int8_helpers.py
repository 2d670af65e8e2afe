"""Shared helpers of the native int8 tests: one-node models, ONNX Runtime runs, exact references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import pytest

# The one-node model builder of the strict-mode op tests, re-exported for the int8 tests.
from tests.backends.cpu.strict_op import one_node_model

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")


# Every kernel path on this CPU, avx512_vnni (the int8 dot-product kernels) included.
FLOAT_TOL = {"rtol": 1e-5, "atol": 1e-5}


def feeds_of(inputs: Sequence[np.ndarray | None]) -> dict[str, np.ndarray]:
    return {f"x{i}": a for i, a in enumerate(inputs) if a is not None}


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """ONNX Runtime's CPU EP with graph optimizations off (each kernel as written)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return list(session.run(None, feeds))


def run_native(
    op_type: str,
    inputs: Sequence[np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    opset: int = 21,
    domain: str = "",
    num_outputs: int = 1,
    constant_inputs: Sequence[int] = (),
    threads: int = 2,
) -> list[np.ndarray]:
    """A one-node native Plan; inputs in `constant_inputs` become plan constants (pre-packed)."""
    n_in = len(inputs)
    slots = [i if a is not None else -1 for i, a in enumerate(inputs)]
    outputs = list(range(n_in, n_in + num_outputs))
    constants = {i: a for i, a in enumerate(inputs) if a is not None and i in constant_inputs}
    feeds = [i for i, a in enumerate(inputs) if a is not None and i not in constant_inputs]
    version = 1 if domain else opset  # com.microsoft ops are version 1
    node = (op_type, domain, version, slots, outputs, attrs or {}, f"{op_type.lower()}_node")
    plan = _native.Plan([node], n_in + num_outputs, feeds, outputs, constants, threads)
    return list(plan.run([inputs[i] for i in feeds]))


def assert_same_as_ort(
    op_type: str,
    inputs: Sequence[np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    opset: int = 21,
    domain: str = "",
    num_outputs: int = 1,
    constant_inputs: Sequence[int] = (),
    tol: dict[str, float] | None = None,
) -> list[np.ndarray]:
    """Native outputs equal ORT's (exactly, or within `tol` for float outputs)."""
    model = one_node_model(op_type, inputs, attrs, opset, num_outputs, domain=domain)
    want = run_ort(model, feeds_of(inputs))
    got = run_native(op_type, inputs, attrs, opset, domain, num_outputs, constant_inputs)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        if tol is None:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=tol["rtol"], atol=tol["atol"])
    return got


def random_q8(rng: np.random.Generator, dtype: type, shape: Sequence[int]) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, size=shape).astype(dtype)
