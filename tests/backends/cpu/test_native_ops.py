"""Native elementwise, MatMul and Softmax kernels match onnx.reference on both SIMD paths."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.simd_paths import FLOAT_SIMD_PATHS, use_simd_path

_native = pytest.importorskip("xinrt._native")

ELEMENTWISE_TOL = {"rtol": 1e-5, "atol": 1e-6}
GEMM_TOL = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(params=FLOAT_SIMD_PATHS)
def cpu_path(request, monkeypatch):
    """Runs a test once per kernel path this CPU offers (portable baseline included)."""
    return use_simd_path(request.param, monkeypatch)


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


BROADCAST_PAIRS = [
    ((7,), (7,)),
    ((1,), (257,)),
    ((3, 1, 5), (4, 1)),
    ((33, 1), (1, 7)),
    ((2, 3, 4, 5), (5,)),
    ((), (3,)),
    ((4, 3, 1), (1, 3, 7)),
    ((257, 33), (257, 33)),
    ((2, 1, 3, 1), (1, 7, 1, 33)),
]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_float32_broadcasting_matches_reference(cpu_path, op, shapes):
    rng = np.random.default_rng(1)
    a = rand(rng, shapes[0])
    b = rand(rng, shapes[1], low=0.5) * rng.choice([-1, 1], size=shapes[1]).astype(np.float32)
    assert_matches_reference(op, [a, b])
    assert_matches_reference(op, [b, a] if op != "Div" else [a, b], constant_inputs=(1,))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_binary_integer_matches_reference(op, dtype):
    rng = np.random.default_rng(2)
    a = rng.integers(-50, 50, size=(3, 7)).astype(dtype)
    b = rng.integers(-9, 9, size=(7,)).astype(dtype)
    b[b == 0] = 3
    assert_matches_reference(op, [a, b], tol={"rtol": 0, "atol": 0})


def test_integer_div_truncates_toward_zero_and_by_zero_gives_zero():
    a = np.array([7, -7, 7, -7, 5, np.iinfo(np.int64).min], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 0, -1], dtype=np.int64)
    (y,) = run_native("Div", [a, b])
    np.testing.assert_array_equal(y[:4], [3, -3, -3, 3])
    assert y[4] == 0 and y[5] == np.iinfo(np.int64).min


UNARY_OPS = ["Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Sqrt", "Reciprocal", "Abs", "Identity"]


@pytest.mark.parametrize("op", UNARY_OPS)
@pytest.mark.parametrize("shape", [(1,), (3, 7), (257, 33), (2, 3, 5, 7)], ids=str)
def test_unary_float32_matches_reference(cpu_path, op, shape):
    rng = np.random.default_rng(3)
    low = 0.1 if op in ("Sqrt", "Reciprocal") else -8.0
    x = rand(rng, shape, low=low, high=8.0)
    assert_matches_reference(op, [x], opset=13)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference overflows in exp
def test_sigmoid_is_stable_for_large_magnitudes():
    x = np.array([-200.0, -88.0, 0.0, 88.0, 200.0], dtype=np.float32)
    assert_matches_reference("Sigmoid", [x])


MATMUL_SHAPES = [
    ((1, 1), (1, 1)),
    ((3, 7), (7, 33)),
    ((257, 33), (33, 7)),
    ((7,), (7, 3)),
    ((3, 7), (7,)),
    ((33,), (33,)),
    ((2, 3, 7, 33), (33, 5)),
    ((2, 1, 7, 33), (3, 33, 9)),
    ((5, 7), (2, 7, 3)),
    ((1, 300, 260), (260, 301)),
    ((2, 7, 513), (2, 513, 17)),
    # Few rows against a constant B: the panel GEMV (gemv.h), over several K blocks and
    # partial panels, one and several rows, batch rows stacked.
    ((1, 600), (600, 45)),
    ((4, 513), (513, 100)),
    ((2, 1, 300), (300, 33)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_reference(cpu_path, shapes):
    rng = np.random.default_rng(4)
    # Unit-scale results, so float32 summation order stays inside the absolute tolerance.
    a, b = rand(rng, shapes[0], low=-1, high=1), rand(rng, shapes[1], low=-1, high=1)
    b /= np.float32(np.sqrt(shapes[1][0] if len(shapes[1]) == 1 else shapes[1][-2]))
    assert_matches_reference("MatMul", [a, b], tol=GEMM_TOL)
    assert_matches_reference("MatMul", [a, b], tol=GEMM_TOL, constant_inputs=(1,), threads=1)
    assert_matches_reference("MatMul", [a, b], tol=GEMM_TOL, constant_inputs=(1,), threads=2)


def test_matmul_mismatched_inner_dims_raises_value_error_naming_node():
    with pytest.raises(ValueError, match="matmul_node.*MatMul.*inner"):
        run_native("MatMul", [np.ones((2, 3), np.float32), np.ones((4, 2), np.float32)])


@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
@pytest.mark.parametrize("shape", [(3, 7, 33), (1, 257, 1)], ids=str)
def test_softmax_13_matches_reference(cpu_path, axis, shape):
    rng = np.random.default_rng(5)
    x = rand(rng, shape, low=-20, high=20)
    assert_matches_reference("Softmax", [x], {"axis": axis}, opset=13, tol=GEMM_TOL)


@pytest.mark.parametrize("opset", [1, 11])
def test_softmax_legacy_on_2d_matches_reference(opset):
    x = rand(np.random.default_rng(6), (7, 1000), low=-20, high=20)
    assert_matches_reference("Softmax", [x], {}, opset=opset, tol=GEMM_TOL)


def test_softmax_legacy_coerces_to_2d_like_the_spec():
    # onnx.reference normalises over `axis` alone here; the spec (and ONNX Runtime) flatten
    # dims [axis:] into one, which is what the native kernel does.
    x = rand(np.random.default_rng(7), (2, 3, 5), low=-5, high=5)
    (y,) = run_native("Softmax", [x], {"axis": 1}, opset=11)
    flat = x.reshape(2, 15)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, (e / e.sum(axis=1, keepdims=True)).reshape(x.shape), **GEMM_TOL)
    assert_matches_onnxruntime("Softmax", [x], {"axis": 1}, opset=11, tol=GEMM_TOL)
