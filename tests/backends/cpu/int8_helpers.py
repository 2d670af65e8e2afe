"""Shared helpers of the native int8 tests: one-node models, ONNX Runtime runs, exact references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")


# Every kernel path on this CPU, avx512_vnni (the int8 dot-product kernels) included.
FLOAT_TOL = {"rtol": 1e-5, "atol": 1e-5}


def one_node_model(
    op_type: str,
    inputs: Sequence[np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    opset: int = 21,
    domain: str = "",
    num_outputs: int = 1,
) -> onnx.ModelProto:
    """A one-node model whose inputs x0, x1, ... are all graph inputs (None = absent)."""
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    node = helper.make_node(
        op_type, names, [f"y{i}" for i in range(num_outputs)], domain=domain, **(attrs or {})
    )
    graph = helper.make_graph(
        [node],
        "one_node",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in zip(names, inputs)
            if a is not None
        ],
        [helper.make_empty_tensor_value_info(f"y{i}") for i in range(num_outputs)],
    )
    opsets = [helper.make_opsetid("", opset)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


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
    model = one_node_model(op_type, inputs, attrs, opset, domain, num_outputs)
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
