"""Shared helpers of the native-kernel tests: one-node models, runs on `cpu` and the oracles."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

_native = pytest.importorskip("xinrt._native")


def plan_for(model: onnx.ModelProto, threads: int = 2):
    """A Plan for a whole graph: initializers become constants, graph inputs feed slots in order."""
    slots: dict[str, int] = {}

    def slot(name: str) -> int:
        return slots.setdefault(name, len(slots)) if name else -1

    consts = {slot(i.name): numpy_helper.to_array(i) for i in model.graph.initializer}
    inputs = [slot(i.name) for i in model.graph.input]
    opset = model.opset_import[0].version
    nodes = []
    for n in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        attrs = {
            k: numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else v
            for k, v in attrs.items()
        }
        nodes.append(
            (
                n.op_type,
                n.domain,
                opset,
                [slot(i) for i in n.input],
                [slot(o) for o in n.output],
                attrs,
                n.name,
            )
        )
    outputs = [slot(o.name) for o in model.graph.output]
    return _native.Plan(nodes, len(slots), inputs, outputs, consts, threads)


ELEMENTWISE_TOL = {"rtol": 1e-5, "atol": 1e-6}


GEMM_TOL = {"rtol": 1e-4, "atol": 1e-5}


def one_node_model(op_type, inputs, attrs, opset, num_outputs=1, output_dtype=None):
    """A one-node ONNX model; `inputs` may hold None for an absent optional input."""
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    outs = [f"y{i}" for i in range(num_outputs)]
    attrs = {
        k: numpy_helper.from_array(v) if isinstance(v, np.ndarray) else v for k, v in attrs.items()
    }
    node = helper.make_node(op_type, names, outs, **attrs)
    graph_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in zip(names, inputs)
        if a is not None
    ]
    elem = (
        onnx.TensorProto.UNDEFINED
        if output_dtype is None
        else helper.np_dtype_to_tensor_dtype(output_dtype)
    )
    graph_outputs = [helper.make_tensor_value_info(o, elem, None) for o in outs]
    graph = helper.make_graph([node], "one_node", graph_inputs, graph_outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def run_reference(op_type, inputs, attrs=None, opset=17, num_outputs=1):
    """onnx.reference's outputs for a one-node model."""
    model = one_node_model(op_type, inputs, attrs or {}, opset, num_outputs)
    feeds = {f"x{i}": a for i, a in enumerate(inputs) if a is not None}
    return ReferenceEvaluator(model).run(None, feeds)


def run_native(op_type, inputs, attrs=None, opset=17, num_outputs=1, constant_inputs=(), threads=2):
    """Runs a one-node Plan built directly; inputs in `constant_inputs` become plan constants."""
    n_in = len(inputs)
    slots = [i if a is not None else -1 for i, a in enumerate(inputs)]
    outputs = list(range(n_in, n_in + num_outputs))
    constants = {i: a for i, a in enumerate(inputs) if a is not None and i in constant_inputs}
    feeds = [i for i, a in enumerate(inputs) if a is not None and i not in constant_inputs]
    node = (op_type, "", opset, slots, outputs, attrs or {}, f"{op_type.lower()}_node")
    plan = _native.Plan([node], n_in + num_outputs, feeds, outputs, constants, threads)
    return plan.run([inputs[i] for i in feeds])


def assert_matches_reference(op_type, inputs, attrs=None, opset=17, tol=None, **kwargs):
    expected = run_reference(op_type, inputs, attrs, opset, kwargs.get("num_outputs", 1))
    actual = run_native(op_type, inputs, attrs, opset, **kwargs)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
        np.testing.assert_allclose(a, e, **(tol or ELEMENTWISE_TOL))


def assert_matches_onnxruntime(op_type, inputs, attrs=None, opset=17, tol=None, **kwargs):
    """Where onnx.reference departs from the ONNX spec, ONNX Runtime is the oracle."""
    ort = pytest.importorskip("onnxruntime")
    model = one_node_model(
        op_type,
        inputs,
        attrs or {},
        opset,
        kwargs.get("num_outputs", 1),
        output_dtype=inputs[0].dtype,
    )
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = sess.run(None, {f"x{i}": a for i, a in enumerate(inputs) if a is not None})
    actual = run_native(op_type, inputs, attrs, opset, **kwargs)
    for a, e in zip(actual, expected):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, **(tol or ELEMENTWISE_TOL))


def rand(rng, shape, dtype=np.float32, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(dtype)


def conv_model(w, b, x_shape, attrs, residual=False, relu=False) -> onnx.ModelProto:
    """Conv with constant weights `w` (and bias `b`) into output y; `residual`: then + a second
    input r; `relu`: then Relu (the plan fuses Add and Relu into the Conv, which applies them as
    it stores)."""
    inits = [numpy_helper.from_array(w, "w")]
    conv_inputs = ["x", "w"]
    if b is not None:
        inits.append(numpy_helper.from_array(b, "b"))
        conv_inputs.append("b")
    nodes = [helper.make_node("Conv", conv_inputs, ["c"], name="conv", **attrs)]
    inputs = [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(x_shape))]
    last = "c"
    if residual:
        nodes.append(helper.make_node("Add", [last, "r"], ["s"], name="add"))
        inputs.append(helper.make_tensor_value_info("r", onnx.TensorProto.FLOAT, None))
        last = "s"
    if relu:
        nodes.append(helper.make_node("Relu", [last], ["a"], name="relu"))
    nodes[-1].output[0] = "y"
    output = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "conv", inputs, [output], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def dequantized_weight_conv_model(w, x_shape, scale=0.013) -> onnx.ModelProto:
    """DequantizeLinear(int8 `w`, `scale`) -> Conv (pads 1) of x: the float Conv a QDQ model
    keeps where no QuantizeLinear follows it."""
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wf"]),
        helper.make_node("Conv", ["x", "wf"], ["y"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(np.array(scale, np.float32), "ws"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
