"""One-node models run on `cpu` alone in strict mode (a decline fails), checked against an oracle.

The oracle is onnx.reference, or ONNX Runtime where the reference departs from the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import xinrt
from xinrt.backends.cpu.backend import CpuBackend

EXACT = {"rtol": 0.0, "atol": 0.0}
FLOAT_TOL = {"rtol": 1e-5, "atol": 1e-6}


def one_node_model(
    op_type: str,
    inputs: Sequence[np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    opset: int = 18,
    num_outputs: int = 1,
    constant: Sequence[int] = (),
    outputs: Sequence[np.ndarray] | None = None,
    domain: str = "",
) -> onnx.ModelProto:
    """A model of one node; inputs listed in `constant` become initializers, None is absent.

    `outputs` (arrays) give the graph outputs' types; without them the outputs are untyped
    (enough for the oracles, not for the ONNX checker). A `domain` op (com.microsoft) imports
    that domain at version 1.
    """
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    outs = [f"y{i}" for i in range(num_outputs)]
    attrs = {
        k: numpy_helper.from_array(v) if isinstance(v, np.ndarray) else v
        for k, v in (attrs or {}).items()
    }
    node = helper.make_node(op_type, names, outs, domain=domain, **attrs)
    graph_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for i, (n, a) in enumerate(zip(names, inputs))
        if a is not None and i not in constant
    ]
    inits = [numpy_helper.from_array(inputs[i], names[i]) for i in constant]  # type: ignore[arg-type]
    if outputs is None:
        graph_outputs = [helper.make_value_info(o, onnx.TypeProto()) for o in outs]
    else:
        graph_outputs = [
            helper.make_tensor_value_info(o, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for o, a in zip(outs, outputs)
        ]
    graph = helper.make_graph([node], "one_node", graph_inputs, graph_outputs, initializer=inits)
    opsets = [helper.make_opsetid("", opset)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=opsets, ir_version=9)


def _feeds(inputs: Sequence[np.ndarray | None], constant: Sequence[int]) -> dict[str, np.ndarray]:
    return {f"x{i}": a for i, a in enumerate(inputs) if a is not None and i not in constant}


def run_cpu_strict(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Runs on `cpu` only, strict: raises PlacementError if cpu declines the node."""
    session = xinrt.InferenceSession(
        model.SerializeToString(), xinrt.SessionOptions(strict=True), backends=["cpu"]
    )
    return list(session.run(None, feeds))


def run_oracle(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], oracle: str
) -> list[np.ndarray]:
    if oracle == "ort":
        import onnxruntime as ort

        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return list(sess.run(None, feeds))
    return list(ReferenceEvaluator(model).run(None, feeds))


def check_op(
    op_type: str,
    inputs: Sequence[np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    opset: int = 18,
    tol: dict[str, float] | None = None,
    num_outputs: int = 1,
    constant: Sequence[int] = (),
    oracle: str = "reference",
) -> list[np.ndarray]:
    """Asserts cpu (strict) gives the oracle's dtypes, shapes and values; returns cpu's."""
    untyped = one_node_model(op_type, inputs, attrs, opset, num_outputs, constant)
    feeds = _feeds(inputs, constant)
    want = [np.asarray(w) for w in run_oracle(untyped, feeds, oracle)]
    model = one_node_model(op_type, inputs, attrs, opset, num_outputs, constant, want)
    got = run_cpu_strict(model, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, (op_type, g.dtype, w.dtype)
        assert g.shape == w.shape, (op_type, g.shape, w.shape)
        t = tol or (FLOAT_TOL if g.dtype.kind == "f" else EXACT)
        np.testing.assert_allclose(g, w, rtol=t["rtol"], atol=t["atol"])
    return got


def cpu_reason(
    op_type: str,
    inputs: Sequence[np.ndarray | None],
    attrs: dict[str, Any] | None = None,
    opset: int = 18,
    num_outputs: int = 1,
) -> str:
    """cpu's capability answer for the node: '' when it claims it, else its reason."""
    model = ir.serde.deserialize_model(one_node_model(op_type, inputs, attrs, opset, num_outputs))
    (support,) = CpuBackend().capability(model.graph).values()
    return "" if support.claimed else support.reason
