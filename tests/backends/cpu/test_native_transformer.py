"""Native transformer-encoder kernels (Erf, Pow, LayerNormalization, reductions, indexing,
comparisons, Where, Cast, MatMul shapes and the bias / Erf-GELU fusions) match onnx.reference
(or ONNX Runtime) on every SIMD path."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_native_ops import (  # noqa: E402
    BROADCAST_PAIRS,
    assert_matches_reference,
    cpu_path,  # noqa: F401 - fixture
    rand,
    run_native,
)

_native = pytest.importorskip("xinrt._native")

ODD_SHAPES = [(1,), (3,), (7,), (33,), (257,), (3, 7, 33)]


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_erf_matches_reference_to_float32_rounding(shape):
    x = rand(np.random.default_rng(1), shape, low=-5, high=5)
    assert_matches_reference("Erf", [x], tol={"rtol": 2.5e-7, "atol": 1e-30})


@pytest.mark.usefixtures("cpu_path")
def test_erf_special_values_match_std_erf():
    x = np.array(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-40, 0.875, 3.9192, 4.0, -9.0], np.float32
    )
    (y,) = run_native("Erf", [x])
    expected = np.array(
        [math.erf(float(v)) if not math.isnan(v) else np.nan for v in x], np.float32
    )
    np.testing.assert_array_equal(np.signbit(y[:2]), [False, True])
    np.testing.assert_allclose(y, expected, rtol=2.5e-7, atol=0)


@pytest.mark.usefixtures("cpu_path")
def test_erf_dense_sweep_is_within_two_ulp_of_math_erf():
    x = np.linspace(-4.5, 4.5, 400_001, dtype=np.float32)
    (y,) = run_native("Erf", [x])
    exact = np.array([math.erf(float(v)) for v in x[::37]])
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(y[::37] - exact) / ulp) <= 2.0


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_pow_float_exponent_broadcasting_matches_reference(shapes):
    rng = np.random.default_rng(2)
    base = rand(rng, shapes[0], low=0.1, high=3)
    exponent = rand(rng, shapes[1], low=-2, high=3)
    assert_matches_reference("Pow", [base, exponent], tol={"rtol": 1e-6, "atol": 1e-6})


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_pow_integer_exponent_and_square_match_reference(dtype):
    rng = np.random.default_rng(3)
    x = rand(rng, (3, 33))
    assert_matches_reference("Pow", [x, np.array([2, 3, -1], dtype).reshape(3, 1)])
    assert_matches_reference("Pow", [x, np.array(2.0, np.float32)])


def test_pow_integer_base_is_declined():
    reason = _native.check_node("Pow", "", 15, ["int64", "int64"], [None, None], {}, 1)
    assert "float32" in reason


@pytest.mark.parametrize("op", ["HardSigmoid", "HardSwish"])
@pytest.mark.parametrize("shape", ODD_SHAPES, ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_hard_activations_match_reference(op, shape):
    x = rand(np.random.default_rng(4), shape, low=-5, high=5)
    attrs = {"alpha": 0.3, "beta": 0.4} if op == "HardSigmoid" and shape == (7,) else {}
    assert_matches_reference(op, [x], attrs)


@pytest.mark.parametrize("slope_shape", [(1,), (33,), (3, 1, 1), (7, 33)], ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_prelu_broadcast_slope_matches_reference(slope_shape):
    rng = np.random.default_rng(5)
    assert_matches_reference("PRelu", [rand(rng, (2, 3, 7, 33)), rand(rng, slope_shape)])


@pytest.mark.parametrize("axis", [-1, -2, 1, 0])
@pytest.mark.parametrize("shape", [(3, 7, 33), (2, 257), (1, 5)], ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_layer_norm_matches_reference(axis, shape):
    if axis >= len(shape) or -axis > len(shape):
        pytest.skip("axis out of range")
    rng = np.random.default_rng(6)
    x = rand(rng, shape)
    norm = shape[axis:]
    scale, bias = rand(rng, norm), rand(rng, norm)
    attrs = {"axis": axis, "epsilon": 1e-3}
    assert_matches_reference(
        "LayerNormalization", [x, scale, bias], attrs, tol={"rtol": 1e-4, "atol": 1e-5}
    )
    assert_matches_reference(
        "LayerNormalization", [x, scale], attrs, tol={"rtol": 1e-4, "atol": 1e-5}
    )


def test_layer_norm_stash_outputs_are_declined():
    reason = _native.check_node("LayerNormalization", "", 17, ["float32"] * 3, [None] * 3, {}, 3)
    assert "Mean/InvStdDev" in reason


REDUCE_CASES = [
    ((3, 7, 33), [-1], 1),
    ((3, 7, 33), [0, 2], 0),
    ((3, 7, 33), [1], 1),
    ((257,), [0], 0),
    ((2, 3, 4, 5), [1, 2], 1),
    ((2, 3, 4, 5), None, 0),
]


@pytest.mark.parametrize("op", ["ReduceMean", "ReduceSum"])
@pytest.mark.parametrize("shape,axes,keepdims", REDUCE_CASES, ids=str)
@pytest.mark.parametrize("opset", [11, 18])
def test_reduce_attribute_and_input_axes_match_reference(op, shape, axes, keepdims, opset):
    x = rand(np.random.default_rng(7), shape)
    attrs: dict = {"keepdims": keepdims}
    inputs = [x]
    if axes is not None:
        if opset < 13 or (op == "ReduceMean" and opset < 18):
            attrs["axes"] = axes
        else:
            inputs.append(np.array(axes, np.int64))
    assert_matches_reference(op, inputs, attrs, opset, tol={"rtol": 1e-5, "atol": 1e-5})


def test_reduce_noop_with_empty_axes_and_integer_sum():
    x = rand(np.random.default_rng(8), (3, 4))
    assert_matches_reference("ReduceSum", [x], {"noop_with_empty_axes": 1}, 13)
    ints = np.arange(-6, 6, dtype=np.int64).reshape(3, 4)
    assert_matches_reference("ReduceSum", [ints, np.array([1], np.int64)], {"keepdims": 0}, 13)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_gather_any_axis_negative_indices_matches_reference(axis, index_dtype):
    rng = np.random.default_rng(9)
    x = rand(rng, (5, 7, 3))
    dim = x.shape[axis]
    idx = np.array([[0, -1], [dim - 1, -dim]], index_dtype)
    assert_matches_reference("Gather", [x, idx], {"axis": axis})
    assert_matches_reference(
        "Gather", [np.arange(7, dtype=np.int64), np.array(-2, index_dtype)], {}
    )


@pytest.mark.parametrize("attrs", [{}, {"start": 1}, {"end": -1}, {"start": -3, "end": 10}])
def test_shape_start_end_matches_reference(attrs):
    assert_matches_reference("Shape", [np.zeros((2, 3, 4, 5), np.float32)], attrs, opset=15)


SLICE_CASES = [
    ([1], [5], None, None),
    ([0, -3], [2, 100], [0, 2], None),
    ([-1], [-1000], [1], [-1]),
    ([10], [0], [2], [-2]),
    ([0, 1], [7, 7], [-1, 1], [3, 2]),
    ([2], [2], None, None),
]


@pytest.mark.parametrize("starts,ends,axes,steps", SLICE_CASES, ids=str)
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_slice_inputs_negative_and_clamped_match_reference(starts, ends, axes, steps, index_dtype):
    x = rand(np.random.default_rng(10), (7, 3, 33))
    inputs = [x, np.array(starts, index_dtype), np.array(ends, index_dtype)]
    inputs.append(None if axes is None else np.array(axes, index_dtype))
    if steps is not None:
        inputs.append(np.array(steps, index_dtype))
    assert_matches_reference("Slice", inputs)


def test_slice_attribute_form_matches_reference():
    x = rand(np.random.default_rng(11), (7, 3, 33))
    assert_matches_reference(
        "Slice", [x], {"starts": [1, -5], "ends": [100, -1], "axes": [0, 2]}, 9
    )


@pytest.mark.parametrize(
    "opset,attrs,split,outputs",
    [
        (11, {"axis": 1, "split": [1, 2, 4]}, None, 3),
        (11, {"axis": 0}, None, 3),
        (13, {"axis": -1}, [10, 23], 2),
        (18, {"axis": 2, "num_outputs": 4}, None, 4),
        (18, {"axis": 1}, [7], 1),
    ],
    ids=str,
)
def test_split_forms_match_reference(opset, attrs, split, outputs):
    x = rand(np.random.default_rng(12), (3, 7, 33))
    inputs = [x] + ([np.array(split, np.int64)] if split is not None else [])
    assert_matches_reference("Split", inputs, attrs, opset, num_outputs=outputs)


@pytest.mark.parametrize(
    "x_shape,shape",
    [((3, 1), (2, 1, 6)), ((1,), (7,)), ((2, 3), (1, 1)), ((4, 1, 5), (4, 3, 1))],
    ids=str,
)
def test_expand_matches_reference(x_shape, shape):
    x = rand(np.random.default_rng(13), x_shape)
    assert_matches_reference("Expand", [x, np.array(shape, np.int64)])


@pytest.mark.parametrize(
    "shapes", [((3, 1), (1, 7), (3, 7)), ((1,), (33,), ()), ((2, 1, 4), (3, 1), (1, 1, 4))], ids=str
)
def test_where_three_way_broadcast_matches_reference(shapes):
    rng = np.random.default_rng(14)
    cond = rng.uniform(size=shapes[0]) > 0.5
    assert_matches_reference("Where", [cond, rand(rng, shapes[1]), rand(rng, shapes[2])])
    ints = [
        cond,
        np.arange(np.prod(shapes[1]), dtype=np.int64).reshape(shapes[1]),
        np.zeros(shapes[2], np.int64),
    ]
    assert_matches_reference("Where", ints)


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32])
def test_comparisons_broadcast_match_reference(op, dtype):
    rng = np.random.default_rng(15)
    a = rng.integers(-3, 3, size=(3, 1, 33)).astype(dtype)
    b = rng.integers(-3, 3, size=(7, 1)).astype(dtype)
    assert_matches_reference(op, [a, b])


def test_equal_on_bool_and_not_match_reference():
    rng = np.random.default_rng(16)
    a, b = rng.uniform(size=(3, 7)) > 0.5, rng.uniform(size=(7,)) > 0.5
    assert_matches_reference("Equal", [a, b])
    assert_matches_reference("Not", [a])


CAST_SOURCES = {
    "float32": np.array(
        [0.0, -0.0, 1.5, -2.7, 65504.0, 70000.0, 1e-5, 6e-8, 3e-8, np.inf, -np.inf, 2.5e9],
        np.float32,
    ),
    "float64": np.array([0.1, -3.9, 1e10, 1e-50], np.float64),
    "float16": np.array([0.0, 1.0, -2.5, 6e-8, 65504.0, np.inf], np.float16),
    "int64": np.array([0, -1, 7, 2**40, -(2**33)], np.int64),
    "int32": np.array([0, -1, 300, -129], np.int32),
    "int8": np.array([0, -1, 127, -128], np.int8),
    "uint8": np.array([0, 1, 255], np.uint8),
    "bool": np.array([True, False], np.bool_),
}
CAST_TARGETS = {
    "float32": 1,
    "uint8": 2,
    "int8": 3,
    "int32": 6,
    "int64": 7,
    "bool": 9,
    "float16": 10,
    "float64": 11,
}


@pytest.mark.parametrize("source", list(CAST_SOURCES))
@pytest.mark.parametrize("target", list(CAST_TARGETS))
def test_cast_pairs_match_numpy(source, target):
    x = CAST_SOURCES[source]
    if source == "float64" and target == "float16":
        assert "not supported" in _native.check_node(
            "Cast", "", 19, ["float64"], [None], {"to": 10}, 1
        )
        return
    if source in ("float32", "float64", "float16") and target not in (
        "float32",
        "float64",
        "float16",
        "bool",
    ):
        x = x[
            np.isfinite(x) & (np.abs(x.astype(np.float64)) < 120)
        ]  # in range for every integer type
    (y,) = run_native("Cast", [x], {"to": CAST_TARGETS[target]}, opset=19)
    expected = x.astype(np.dtype(target))
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y, expected)


def test_float32_to_float16_rounds_to_nearest_even_everywhere():
    bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    (y,) = run_native("Cast", [x], {"to": 10}, opset=19)
    expected = x.astype(np.float16)
    same = (y.view(np.uint16) == expected.view(np.uint16)) | (np.isnan(y) & np.isnan(expected))
    assert same.all()


@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 128, 256), (256, 256)),
        ((4, 128, 64), (4, 64, 128)),
        ((3, 1, 7, 33), (5, 33, 3)),
        ((257,), (257, 7)),
        ((2, 7, 1), (1,)),
    ],
    ids=str,
)
@pytest.mark.parametrize("constant_b", [False, True])
@pytest.mark.usefixtures("cpu_path")
def test_matmul_transformer_shapes_match_reference(shapes, constant_b):
    rng = np.random.default_rng(17)
    a, b = rand(rng, shapes[0]), rand(rng, shapes[1])
    tol = {"rtol": 1e-4, "atol": 1e-4}  # K up to 257 terms of +-4: sums cancel to ~1e-2
    assert_matches_reference("MatMul", [a, b], tol=tol, constant_inputs=(1,) if constant_b else ())


def _run_chain(nodes, inputs, constants, outputs, threads=2):
    plan = _native.Plan(nodes, 20, list(range(len(inputs))), outputs, constants, threads)
    return plan, plan.run(inputs)


@pytest.mark.usefixtures("cpu_path")
@pytest.mark.parametrize("rows", [33, 1, 3])  # 1 and 3 rows: the panel GEMV (gemv.h)
def test_matmul_bias_add_fuses_and_matches_numpy(rows):
    rng = np.random.default_rng(18)
    x, w, b = rand(rng, (1, rows, 300)), rand(rng, (300, 257)), rand(rng, (257,))
    nodes = [("MatMul", "", 17, [0, 1], [3], {}, "mm"), ("Add", "", 17, [2, 3], [4], {}, "bias")]
    plan, (y,) = _run_chain(nodes, [x], {1: w, 2: b}, [4])
    assert plan.steps == ["mm+bias (MatMul)"]
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-4, atol=1e-4)


@pytest.mark.usefixtures("cpu_path")
def test_erf_gelu_chain_fuses_and_matches_unfused():
    x = rand(np.random.default_rng(19), (3, 7, 33), low=-6, high=6)
    c = {
        1: np.array(math.sqrt(2), np.float32),
        3: np.array(1.0, np.float32),
        5: np.array(0.5, np.float32),
    }
    nodes = [
        ("Div", "", 17, [0, 1], [2], {}, "div"),
        ("Erf", "", 17, [2], [6], {}, "erf"),
        ("Add", "", 17, [6, 3], [4], {}, "add"),
        ("Mul", "", 17, [0, 4], [7], {}, "mul"),
        ("Mul", "", 17, [7, 5], [8], {}, "half"),
    ]
    plan, (y,) = _run_chain(nodes, [x], c, [8])
    assert plan.steps == ["div+erf+add+mul+half (GeluErf)"]
    expected = np.array(
        [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel().astype(np.float64)]
    )
    np.testing.assert_allclose(y.ravel(), expected, rtol=1e-6, atol=1e-7)


def test_erf_gelu_is_not_fused_when_an_intermediate_is_an_output():
    x = rand(np.random.default_rng(20), (7,))
    c = {1: np.array(1.5, np.float32), 3: np.array(1.0, np.float32), 5: np.array(0.5, np.float32)}
    nodes = [
        ("Div", "", 17, [0, 1], [2], {}, "div"),
        ("Erf", "", 17, [2], [6], {}, "erf"),
        ("Add", "", 17, [6, 3], [4], {}, "add"),
        ("Mul", "", 17, [0, 4], [7], {}, "mul"),
        ("Mul", "", 17, [7, 5], [8], {}, "half"),
    ]
    plan, (y, erf) = _run_chain(nodes, [x], c, [8, 6])
    assert len(plan.steps) == 5
    np.testing.assert_allclose(erf, [math.erf(v / 1.5) for v in x.astype(np.float64)], rtol=3e-7)


@pytest.mark.parametrize("threads", [1, 2])
def test_bert_encoder_runs_wholly_on_cpu_and_matches_onnxruntime(threads):
    ort = pytest.importorskip("onnxruntime")
    import xinrt
    from xinrt.bench.models import transformer_encoder

    model = transformer_encoder(layers=2)
    x = np.random.default_rng(21).standard_normal((1, 128, 256)).astype(np.float32)
    options = xinrt.SessionOptions(strict=True, intra_op_num_threads=threads)
    actual = xinrt.InferenceSession(model, backends=["cpu"], sess_options=options).run(
        None, {"hidden_states": x}
    )
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    ref = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(
        actual[0], ref.run(None, {"hidden_states": x})[0], rtol=1e-3, atol=1e-4
    )


def test_bert_encoder_with_decomposed_layer_norm_runs_on_cpu():
    from onnx.reference import ReferenceEvaluator

    import xinrt
    from xinrt.bench.models import transformer_encoder

    model = transformer_encoder(layers=1, hidden=64, heads=2, sequence=7, fused_layer_norm=False)
    x = np.random.default_rng(22).standard_normal((1, 7, 64)).astype(np.float32)
    options = xinrt.SessionOptions(strict=True)
    actual = xinrt.InferenceSession(model, backends=["cpu"], sess_options=options).run(
        None, {"hidden_states": x}
    )
    expected = ReferenceEvaluator(model).run(None, {"hidden_states": x})
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-3, atol=1e-4)
