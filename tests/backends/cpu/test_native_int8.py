"""Native int8 kernels and the dynamic-quantization fusion match ONNX Runtime on every SIMD path.

ONNX Runtime (graph optimizations off, so each kernel runs as written) is the authority for the
exact integer semantics: saturation, round-half-to-even ties, zero points and per-axis scales;
integer products are also checked against numpy's exact int64 arithmetic, and ops onnx.reference
implements are checked against it too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.simd_paths import SIMD_PATHS, use_simd_path

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")

# Every kernel path on this CPU, avx512_vnni (the int8 dot-product kernels) included.
FLOAT_TOL = {"rtol": 1e-5, "atol": 1e-5}
SHAPES = [(1, 1, 1), (7, 33, 5), (33, 257, 65), (4, 7, 33), (9, 64, 40)]
# (A, B, Y) dtypes ONNX Runtime's CPU QLinearMatMul runs; others are checked against numpy only.
ORT_QLINEAR_TYPES = {
    (np.uint8, np.uint8, np.uint8),
    (np.uint8, np.int8, np.uint8),
    (np.int8, np.int8, np.int8),
}


@pytest.fixture(params=SIMD_PATHS)
def cpu_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once per kernel path this CPU offers (portable baseline included)."""
    return use_simd_path(request.param, monkeypatch)


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


def exact_matmul(
    a: np.ndarray, b: np.ndarray, a_zero: np.ndarray, b_zero: np.ndarray
) -> np.ndarray:
    return np.matmul(a.astype(np.int64) - a_zero.astype(np.int64), b.astype(np.int64) - b_zero)


# -- QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear ------------------------------


def ties_and_saturation(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Values whose x / 0.5 lands on .5 ties, far past both ends of the range, and random."""
    x = rng.integers(-600, 600, size=shape).astype(np.float32) * 0.25
    x.flat[:4] = [0.25, 0.75, -0.25, -1.25]  # / 0.5 -> 0.5, 1.5, -0.5, -2.5 (ties)
    x.flat[4:6] = [1e6, -1e6]  # saturate
    return x


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("opset", [10, 13, 19, 21, 25])
def test_quantize_linear_per_tensor_rounds_ties_to_even_and_saturates(
    cpu_path: str, dtype: type, opset: int
) -> None:
    rng = np.random.default_rng(1)
    x = ties_and_saturation(rng, (3, 37))
    zero: np.ndarray = np.array(3 if dtype == np.uint8 else -5, dtype=dtype)
    inputs = [x, np.array(0.5, np.float32), zero]
    got = assert_same_as_ort("QuantizeLinear", inputs, opset=opset)
    model = one_node_model("QuantizeLinear", inputs, opset=opset)
    want = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(got[0], want[0])
    assert got[0].min() == np.iinfo(dtype).min and got[0].max() == np.iinfo(dtype).max


@pytest.mark.parametrize("op_type", ["QuantizeLinear", "DequantizeLinear"])
def test_opset_28_keeps_the_uint8_int8_semantics(cpu_path: str, op_type: str) -> None:
    """Opset 28 only adds float6 types; onnx.reference (version 25 code) is the authority."""
    rng = np.random.default_rng(11)
    x = (
        ties_and_saturation(rng, (4, 9))
        if op_type == "QuantizeLinear"
        else random_q8(rng, np.int8, (4, 9))
    )
    inputs = [x, np.array(0.5, np.float32), np.array(-3, np.int8)]
    model = one_node_model(op_type, inputs, opset=28)
    want = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(run_native(op_type, inputs, opset=28)[0], want[0])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_quantize_linear_per_axis(cpu_path: str, dtype: type, axis: int) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5, 33)).astype(np.float32) * 3
    c = x.shape[axis]
    scale = np.asarray(rng.uniform(0.01, 0.05, c), dtype=np.float32)
    zero = random_q8(rng, dtype, (c,))
    assert_same_as_ort("QuantizeLinear", [x, scale, zero], {"axis": axis}, opset=13)


def test_quantize_linear_output_dtype_without_zero_point(cpu_path: str) -> None:
    x = ties_and_saturation(np.random.default_rng(3), (70,))
    got = assert_same_as_ort(
        "QuantizeLinear", [x, np.array(0.5, np.float32), None], {"output_dtype": 3}, opset=21
    )
    assert got[0].dtype == np.int8


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("per_axis", [False, True])
def test_dequantize_linear(cpu_path: str, dtype: type, per_axis: bool) -> None:
    rng = np.random.default_rng(4)
    x = random_q8(rng, dtype, (3, 6, 17))
    shape = (6,) if per_axis else ()
    scale = np.asarray(rng.uniform(0.01, 1.0, shape), dtype=np.float32)
    zero = random_q8(rng, dtype, shape)
    inputs = [x, scale, zero]
    attrs = {"axis": 1} if per_axis else {}
    got = assert_same_as_ort("DequantizeLinear", inputs, attrs, opset=13)
    model = one_node_model("DequantizeLinear", inputs, attrs, opset=19)
    want = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(got[0], want[0])


@pytest.mark.parametrize("zero_shape", [None, (), (1,)])
def test_dequantize_linear_int32_bias(cpu_path: str, zero_shape: tuple[int, ...] | None) -> None:
    """quantize_static writes biases as int32 DequantizeLinear, often with [1]-shaped scales."""
    rng = np.random.default_rng(14)
    x = rng.integers(-(2**20), 2**20, size=(64,)).astype(np.int32)
    scale = np.asarray(rng.uniform(1e-5, 1e-3, zero_shape or ()), dtype=np.float32)
    zero = None if zero_shape is None else np.zeros(zero_shape, np.int32)
    got = assert_same_as_ort("DequantizeLinear", [x, scale, zero], opset=13)
    np.testing.assert_allclose(got[0], x.astype(np.float64) * float(scale.ravel()[0]), rtol=1e-6)


@pytest.mark.parametrize(
    "kind", ["normal", "positive", "negative", "zeros", "ties", "large", "big"]
)
def test_dynamic_quantize_linear(cpu_path: str, kind: str) -> None:
    rng = np.random.default_rng(5)
    x: np.ndarray = rng.standard_normal((5, 67)).astype(np.float32)
    if kind == "positive":
        x = np.abs(x) + 0.5
    elif kind == "negative":
        x = -np.abs(x) - 0.5
    elif kind == "zeros":
        x = np.zeros_like(x)
    elif kind == "ties":  # range [-127.5, 127.5] -> scale 1, zero point 127.5 -> 128 (even)
        x = rng.integers(-255, 256, size=x.shape).astype(np.float32) / 2
        x.flat[:2] = [-127.5, 127.5]
    elif kind == "big":  # enough values to scan and quantize in parallel chunks
        x = rng.standard_normal((300, 301)).astype(np.float32)
        x.flat[-1] = -7.5  # the minimum sits in the last chunk
    elif kind == "large":
        x *= 1e4
    got = assert_same_as_ort("DynamicQuantizeLinear", [x], opset=11, num_outputs=3)
    if kind != "zeros":  # onnx.reference picks scale 1/255 for an all-zero input; ORT picks 1
        want = ReferenceEvaluator(
            one_node_model("DynamicQuantizeLinear", [x], opset=11, num_outputs=3)
        ).run(None, {"x0": x})
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


# -- MatMulInteger / QLinearMatMul / com.microsoft ------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a_type", [np.uint8, np.int8])
@pytest.mark.parametrize("b_type", [np.uint8, np.int8])
def test_matmul_integer_is_exact(
    cpu_path: str, shape: tuple[int, int, int], a_type: type, b_type: type
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(m * 1000 + k)
    a = random_q8(rng, a_type, (m, k))
    b = random_q8(rng, b_type, (k, n))
    a_zero = random_q8(rng, a_type, ())
    b_zero = random_q8(rng, b_type, (n,))
    if m == 9:  # zero weight zero points: the VNNI path then reads uint8 A in place
        b_zero[:] = 0
    want = exact_matmul(a, b, a_zero, b_zero)
    for constants in [(), (1, 3)]:  # B fed per run, then packed at plan time
        got = run_native("MatMulInteger", [a, b, a_zero, b_zero], constant_inputs=constants)[0]
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, want)
    if a_type == np.uint8:  # ORT's CPU MatMulInteger takes uint8 A only
        assert_same_as_ort("MatMulInteger", [a, b, a_zero, b_zero], opset=10)
    inputs = [a, b, a_zero, b_zero]
    model = one_node_model("MatMulInteger", inputs, opset=10)
    reference = list(ReferenceEvaluator(model).run(None, feeds_of(inputs)))
    np.testing.assert_array_equal(reference[0], want)


def test_matmul_integer_batched_a_and_b(cpu_path: str) -> None:
    rng = np.random.default_rng(6)
    a = random_q8(rng, np.uint8, (2, 3, 7, 33))
    a_zero = np.array(131, np.uint8)
    b2 = random_q8(rng, np.int8, (33, 9))
    b_zero = np.array(-3, np.int8)
    for constants in [(), (1,)]:
        got = run_native("MatMulInteger", [a, b2, a_zero, b_zero], constant_inputs=constants)
        np.testing.assert_array_equal(got[0], exact_matmul(a, b2, a_zero, b_zero))
    b4 = random_q8(rng, np.int8, (3, 33, 9))  # batched, broadcast over A's first dim
    got = assert_same_as_ort("MatMulInteger", [a, b4, a_zero, b_zero], opset=10)
    np.testing.assert_array_equal(got[0], exact_matmul(a, b4, a_zero, b_zero))


def test_matmul_integer_1d_operands(cpu_path: str) -> None:
    rng = np.random.default_rng(7)
    a, b = random_q8(rng, np.uint8, (19,)), random_q8(rng, np.int8, (19, 6))
    assert_same_as_ort("MatMulInteger", [a, b, None, None], opset=10)
    np.testing.assert_array_equal(
        run_native("MatMulInteger", [a, b[:, 0].copy(), None, None])[0],
        exact_matmul(a, b[:, 0], np.array(0), np.array(0)),
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "types",
    [
        (np.uint8, np.uint8, np.uint8),
        (np.uint8, np.int8, np.uint8),
        (np.int8, np.int8, np.int8),
        (np.int8, np.uint8, np.int8),
    ],
)
@pytest.mark.parametrize("per_column", [False, True])
def test_qlinear_matmul_requantizes_as_ort(
    cpu_path: str, shape: tuple[int, int, int], types: tuple[type, type, type], per_column: bool
) -> None:
    m, k, n = shape
    a_type, b_type, y_type = types
    rng = np.random.default_rng(k * 7 + n)
    a, b = random_q8(rng, a_type, (m, k)), random_q8(rng, b_type, (k, n))
    col = (n,) if per_column else ()
    # y_scale small enough that many outputs saturate at both ends
    inputs = [
        a,
        np.array(0.02, np.float32),
        random_q8(rng, a_type, ()),
        b,
        rng.uniform(0.005, 0.02, col).astype(np.float32),
        random_q8(rng, b_type, col),
        np.array(0.01 * np.sqrt(k), np.float32),
        random_q8(rng, y_type, ()),
    ]
    # ORT's requantization: float32 multiplier a_scale * b_scale / y_scale, clamp, round to even
    acc = exact_matmul(a, b, inputs[2], inputs[5]).astype(np.float32)
    multiplier = inputs[1] * inputs[4] / inputs[6]
    info = np.iinfo(y_type)
    y_zero = int(inputs[7])
    scaled = np.clip(acc * multiplier, info.min - y_zero, info.max - y_zero)
    want = (np.rint(scaled).astype(np.int32) + y_zero).astype(y_type)
    if types in ORT_QLINEAR_TYPES:  # ORT's CPU EP has no kernel for other mixes
        ort_y = run_ort(one_node_model("QLinearMatMul", inputs, opset=10), feeds_of(inputs))[0]
        np.testing.assert_array_equal(ort_y, want)
    for constants in [(), (3, 5)]:
        got = run_native("QLinearMatMul", inputs, opset=10, constant_inputs=constants)[0]
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert m * n < 64 or info.min in want or info.max in want  # the saturation is exercised


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("b_type", [np.uint8, np.int8])
@pytest.mark.parametrize("per_column", [False, True])
def test_matmul_integer_to_float(
    cpu_path: str, shape: tuple[int, int, int], b_type: type, per_column: bool
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(n * 3 + k)
    col = (n,) if per_column else ()
    inputs = [
        random_q8(rng, np.uint8, (2, m, k)),
        random_q8(rng, b_type, (k, n)),
        np.array(0.03, np.float32),
        rng.uniform(0.001, 0.01, col).astype(np.float32),
        random_q8(rng, np.uint8, ()),
        random_q8(rng, b_type, col),
        rng.standard_normal(n).astype(np.float32),
    ]
    for constants in [(), (1, 3, 5)]:
        assert_same_as_ort(
            "MatMulIntegerToFloat",
            inputs,
            domain="com.microsoft",
            constant_inputs=constants,
            tol=FLOAT_TOL,
        )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("b_type", [np.uint8, np.int8])
@pytest.mark.parametrize(("with_bias", "per_column"), [(False, False), (True, False), (True, True)])
def test_dynamic_quantize_matmul(
    cpu_path: str, shape: tuple[int, int, int], b_type: type, with_bias: bool, per_column: bool
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    col = (n,) if per_column else ()
    inputs = [
        rng.standard_normal((3, m, k)).astype(np.float32),
        random_q8(rng, b_type, (k, n)),
        np.asarray(rng.uniform(0.002, 0.006, col), dtype=np.float32),
        random_q8(rng, b_type, col),
        rng.standard_normal(n).astype(np.float32) if with_bias else None,
    ]
    for constants in [(), (1, 2, 3, 4)]:
        assert_same_as_ort(
            "DynamicQuantizeMatMul",
            inputs,
            domain="com.microsoft",
            constant_inputs=constants,
            tol=FLOAT_TOL,
        )


# -- checks and errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op_type", "dtypes", "shapes", "attrs", "expected"),
    [
        ("QuantizeLinear", ["float32", "float32", "int16"], [None, [], []], {}, "int16"),
        (
            "QuantizeLinear",
            ["float32", "float32", ""],
            [None, [], None],
            {"output_dtype": 4},
            "output_dtype",
        ),
        (
            "QuantizeLinear",
            ["float32", "float32", "uint8"],
            [[4, 8], [4, 2], [4, 2]],
            {"block_size": 4},
            "block",
        ),
        ("DequantizeLinear", ["float32", "float32"], [None, []], {}, "float32"),
        (
            "MatMulInteger",
            ["uint8", "int8", "uint8", "int8"],
            [[4, 8], [8, 3], [4], []],
            {},
            "per-row",
        ),
        ("MatMulInteger", ["float32", "int8"], [None, None], {}, "float32"),
    ],
)
def test_unsupported_variants_are_declined_with_a_reason(
    op_type: str, dtypes: list[str], shapes: list[Any], attrs: dict[str, Any], expected: str
) -> None:
    reason = _native.check_node(op_type, "", 21, dtypes, shapes, attrs, 1)
    assert expected in reason, reason


def test_mismatched_inner_dimensions_raise() -> None:
    rng = np.random.default_rng(8)
    a, b = random_q8(rng, np.uint8, (4, 5)), random_q8(rng, np.int8, (6, 3))
    with pytest.raises(ValueError, match="inner dimensions"):
        run_native("MatMulInteger", [a, b, None, None], opset=10)


# -- the quantize_dynamic fusion and a whole quantized encoder ------------------------------


def plan_of(model: onnx.ModelProto, threads: int = 2) -> Any:
    """A native Plan of a whole model (initializers become plan constants)."""
    slots: dict[str, int] = {}

    def slot(name: str) -> int:
        return slots.setdefault(name, len(slots)) if name else -1

    inputs = [slot(i.name) for i in model.graph.input]
    constants = {slot(t.name): numpy_helper.to_array(t) for t in model.graph.initializer}
    opsets = {o.domain: o.version for o in model.opset_import}
    nodes = [
        (
            n.op_type,
            n.domain,
            opsets.get(n.domain, 1),
            [slot(i) for i in n.input],
            [slot(o) for o in n.output],
            {a.name: helper.get_attribute_value(a) for a in n.attribute},
            n.name,
        )
        for n in model.graph.node
    ]
    outputs = [slot(o.name) for o in model.graph.output]
    return _native.Plan(nodes, len(slots), inputs, outputs, constants, threads), len(inputs)


def quantize_dynamic_model(
    model: onnx.ModelProto, weight_type: str, per_channel: bool = False
) -> onnx.ModelProto:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, str(src))
        quantize_dynamic(
            str(src), str(dst), weight_type=QuantType[weight_type], per_channel=per_channel
        )
        return onnx.load(str(dst))


@pytest.mark.parametrize("weight_type", ["QInt8", "QUInt8"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_quantize_dynamic_matmul_fuses_into_one_step(
    cpu_path: str, weight_type: str, per_channel: bool
) -> None:
    rng = np.random.default_rng(9)
    w = numpy_helper.from_array(rng.standard_normal((48, 20)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(20).astype(np.float32), "bias")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["mm"]),
            helper.make_node("Add", ["mm", "bias"], ["y"]),
        ],
        "mm",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3, 7, 48])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3, 7, 20])],
        [w, bias],
    )
    fp32 = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    model = quantize_dynamic_model(fp32, weight_type, per_channel)
    assert {n.op_type for n in model.graph.node} >= {"DynamicQuantizeLinear", "MatMulInteger"}
    plan, _ = plan_of(model)
    assert [s.split(" (")[1] for s in plan.steps] == ["DynamicQuantizeMatMul)"]
    x = rng.standard_normal((3, 7, 48)).astype(np.float32)
    got = plan.run([x])[0]
    unfused = run_ort(model, {"x": x})[0]  # DynamicQuantizeLinear, MatMulInteger, Cast, Mul, Add
    np.testing.assert_allclose(got, unfused, rtol=FLOAT_TOL["rtol"], atol=FLOAT_TOL["atol"])


@pytest.mark.parametrize("weight_type", ["QInt8", "QUInt8"])
def test_quantize_dynamic_encoder_runs_wholly_on_cpu_close_to_ort(
    cpu_path: str, weight_type: str
) -> None:
    from xinrt import InferenceSession, SessionOptions
    from xinrt.bench.models import transformer_encoder

    fp32 = transformer_encoder(layers=2, hidden=64, heads=2, sequence=16, batch=1)
    model = quantize_dynamic_model(fp32, weight_type)
    session = InferenceSession(model, SessionOptions(intra_op_num_threads=2), backends=["cpu"])
    assert {n.backend for n in session.placement.nodes} == {"cpu"}
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    plan, _ = plan_of(model)
    # Q, K and V share one DynamicQuantizeLinear (kept; MatMulIntegerToFloat reads it); the
    # attention output and FFN projections quantize inside DynamicQuantizeMatMul.
    kinds = [s.rsplit(" (", 1)[1].rstrip(")") for s in plan.steps]
    assert (
        kinds.count("MatMulIntegerToFloat") == 3 * 2 and kinds.count("DynamicQuantizeLinear") == 2
    )
    assert kinds.count("DynamicQuantizeMatMul") == 3 * 2
    assert not {"MatMulInteger", "Cast"} & set(kinds)
    rng = np.random.default_rng(10)
    feeds = {
        i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(
            np.float32
        )
        for i in model.graph.input
    }
    got = session.run(None, feeds)[-1].astype(np.float64).ravel()
    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[-1]
    want = want.astype(np.float64).ravel()
    cosine = got @ want / (np.linalg.norm(got) * np.linalg.norm(want))
    max_abs = float(np.abs(got - want).max())
    print(f"{weight_type}: cosine {cosine:.7f}, max abs diff {max_abs:.3g}")
    assert cosine >= 0.999, (cosine, max_abs)
