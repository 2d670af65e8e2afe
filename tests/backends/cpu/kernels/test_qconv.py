"""Native QLinearConv/ConvInteger match an exact integer reference and ONNX Runtime on every SIMD
path, and QDQ models (quantize_static) fuse into integer steps that match ONNX Runtime."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.backends.cpu.native_helpers import plan_for  # noqa: E402
from tests.backends.cpu.simd_paths import SIMD_PATHS, use_simd_path

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")


# Every kernel path this CPU offers, avx512_vnni included (the int8 GEMM differs there).
@pytest.fixture(params=SIMD_PATHS)
def cpu_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once per kernel path (portable baseline included)."""
    return use_simd_path(request.param, monkeypatch)


def _geometry(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], attrs: dict[str, Any]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Strides, dilations, begin pads and end pads for NOTSET/VALID/SAME_* as the ONNX spec says."""
    n = len(x_shape) - 2
    strides = list(attrs.get("strides", [1] * n))
    dil = list(attrs.get("dilations", [1] * n))
    pads = list(attrs.get("pads", [0] * 2 * n))
    auto_pad = attrs.get("auto_pad", "NOTSET")
    begin, end = pads[:n], pads[n:]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        for i in range(n):
            out = -(-x_shape[2 + i] // strides[i])
            window = (w_shape[2 + i] - 1) * dil[i] + 1
            total = max(0, (out - 1) * strides[i] + window - x_shape[2 + i])
            begin[i] = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            end[i] = total - begin[i]
    elif auto_pad == "VALID":
        begin, end = [0] * n, [0] * n
    return strides, dil, begin, end


def conv_accumulator(
    x: np.ndarray, w: np.ndarray, x_zero: int, w_zero: np.ndarray, attrs: dict[str, Any]
) -> np.ndarray:
    """sum (x - x_zero)(w - w_zero[m]) of an NCHW (or NCW) convolution, exact in int64."""
    one_d = x.ndim == 3
    if one_d:
        x, w = x[:, :, None, :], w[:, :, None, :]
        attrs = {
            k: ([1] + list(v) if k != "pads" else [0, v[0], 0, v[1]]) if isinstance(v, list) else v
            for k, v in attrs.items()
        }
    strides, dil, begin, end = _geometry(x.shape, w.shape, attrs)
    group = int(attrs.get("group", 1))
    xi = np.pad(
        x.astype(np.int64) - x_zero, [(0, 0), (0, 0), (begin[0], end[0]), (begin[1], end[1])]
    )
    wz = np.broadcast_to(np.asarray(w_zero, np.int64).reshape(-1), (w.shape[0],))
    wi = w.astype(np.int64) - wz[:, None, None, None]
    n, c = x.shape[:2]
    m, cg, kh, kw = w.shape
    oh = (xi.shape[2] - ((kh - 1) * dil[0] + 1)) // strides[0] + 1
    ow = (xi.shape[3] - ((kw - 1) * dil[1] + 1)) // strides[1] + 1
    y = np.zeros((n, m, oh, ow), np.int64)
    mg = m // group
    for g in range(group):
        xg = xi[:, g * cg : (g + 1) * cg]
        wg = wi[g * mg : (g + 1) * mg]
        for i in range(kh):
            for j in range(kw):
                patch = xg[
                    :,
                    :,
                    i * dil[0] : i * dil[0] + (oh - 1) * strides[0] + 1 : strides[0],
                    j * dil[1] : j * dil[1] + (ow - 1) * strides[1] + 1 : strides[1],
                ]
                y[:, g * mg : (g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, wg[:, :, i, j])
    return y[:, :, 0, :] if one_d else y


def requantize(acc: np.ndarray, scale: np.ndarray, y_zero: int, dtype: type) -> np.ndarray:
    """saturate(round_half_even(float32(acc) * scale[m]) + y_zero) with per-channel scale."""
    shape = [1, -1] + [1] * (acc.ndim - 2)
    v = np.rint(acc.astype(np.float32) * scale.astype(np.float32).reshape(shape)) + y_zero
    info = np.iinfo(dtype)
    return np.clip(v, info.min, info.max).astype(dtype)


def qlinearconv_model(
    inputs: list[np.ndarray | None], attrs: dict[str, Any], const_w: bool
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A one-node QLinearConv model; the weight and all scales/zero points are initializers
    when const_w, else graph inputs (scales and zero points stay initializers)."""
    names = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"]
    feed_names = {"x"} | (set() if const_w else {"w"})
    inits, graph_inputs, feeds = [], [], {}
    for name, value in zip(names, inputs):
        if value is None:
            continue
        if name in feed_names:
            graph_inputs.append(
                helper.make_tensor_value_info(
                    name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape
                )
            )
            feeds[name] = value
        else:
            inits.append(numpy_helper.from_array(value, name))
    used = [n if v is not None else "" for n, v in zip(names, inputs)]
    while used and used[-1] == "":
        used.pop()
    node = helper.make_node("QLinearConv", used, ["y"], **attrs)
    out_type = helper.np_dtype_to_tensor_dtype(inputs[7].dtype)  # type: ignore[union-attr]
    graph = helper.make_graph(
        [node], "qconv", graph_inputs, [helper.make_tensor_value_info("y", out_type, None)], inits
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8
    ), feeds


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return list(session.run(None, feeds))


def run_xinrt(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    plan = plan_for(model)
    return list(plan.run([feeds[i.name] for i in model.graph.input]))


CONV_CASES: dict[str, tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = {
    "1x1": ((1, 16, 5, 6), (24, 16, 1, 1), {}),
    "3x3_stride2_pads": ((2, 8, 9, 11), (12, 8, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "asym_pads_odd_channels": ((1, 5, 7, 7), (7, 5, 3, 2), {"pads": [0, 2, 1, 0]}),
    "groups": ((1, 12, 6, 6), (9, 4, 3, 3), {"group": 3, "pads": [1, 1, 1, 1]}),
    "depthwise": (
        (1, 6, 8, 8),
        (6, 1, 3, 3),
        {"group": 6, "pads": [1, 1, 1, 1], "strides": [2, 1]},
    ),
    "depthwise_multiplier": ((1, 3, 6, 7), (6, 1, 3, 3), {"group": 3}),
    "dilation": ((1, 4, 10, 10), (5, 4, 3, 3), {"dilations": [2, 2], "pads": [2, 1, 2, 1]}),
    "same_upper": ((1, 3, 7, 8), (4, 3, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
    "valid": ((1, 3, 7, 8), (4, 3, 3, 3), {"auto_pad": "VALID"}),
    "same_lower_even_kernel": ((1, 3, 6, 9), (4, 3, 2, 4), {"auto_pad": "SAME_LOWER"}),
    "one_d": ((2, 6, 13), (5, 6, 3), {"strides": [2], "pads": [1, 1]}),
    "1x1_stride2": ((1, 8, 7, 7), (16, 8, 1, 1), {"strides": [2, 2]}),
}

# (x dtype, w dtype) pairs ONNX Runtime's QLinearConv runs; s8 x with u8 w only vs the reference.
DTYPE_PAIRS = [(np.uint8, np.int8), (np.uint8, np.uint8), (np.int8, np.int8), (np.int8, np.uint8)]


def random_case(
    case: str, x_dtype: type, w_dtype: type, per_channel: bool, seed: int, w_bits: int = 8
) -> tuple[list[np.ndarray | None], dict[str, Any]]:
    """Random QLinearConv inputs. w_bits < 8 keeps |w - w_zero| small: ONNX Runtime's AVX2
    u8s8 kernel saturates int16 pair sums, so its comparisons use 7-bit weights."""
    x_shape, w_shape, attrs = CONV_CASES[case]
    rng = np.random.default_rng(seed)
    xi = np.iinfo(x_dtype)
    x: np.ndarray = rng.integers(xi.min, xi.max + 1, x_shape).astype(x_dtype)
    half = 1 << (w_bits - 1)
    w_mid = 0 if w_dtype == np.int8 else 128
    w: np.ndarray = rng.integers(w_mid - half, w_mid + half, w_shape).astype(w_dtype)
    m = w_shape[0]
    ws: np.ndarray = rng.uniform(0.002, 0.02, m if per_channel else 1).astype(np.float32)
    wz: np.ndarray = np.full(m if per_channel else 1, 0 if w_dtype == np.int8 else 128, w_dtype)
    if not per_channel:
        ws, wz = ws.reshape(()), wz.reshape(())
    xz: np.ndarray = np.array(rng.integers(xi.min // 2, xi.max // 2), x_dtype)
    bias = rng.integers(-3000, 3000, m).astype(np.int32)
    y_dtype = x_dtype
    yz: np.ndarray = np.array(3 if y_dtype == np.uint8 else -5, y_dtype)
    return [
        x,
        np.array(0.05, np.float32),
        xz,
        w,
        ws,
        wz,
        np.array(0.9, np.float32),
        yz,
        bias,
    ], attrs


def expected_qlinearconv(inputs: list[Any], attrs: dict[str, Any]) -> np.ndarray:
    x, xs, xz, w, ws, wz, ys, yz, b = inputs
    acc = conv_accumulator(x, w, int(xz), np.asarray(wz, np.int64), attrs)
    if b is not None:
        acc = acc + b.astype(np.int64).reshape([1, -1] + [1] * (acc.ndim - 2))
    # ONNX Runtime's scale: x_scale * w_scale / y_scale in float32, in this order.
    scale = (np.float32(xs) * np.asarray(ws, np.float32).reshape(-1)) / np.float32(ys)
    return requantize(acc, scale, int(yz), yz.dtype.type)


@pytest.mark.parametrize("case", sorted(CONV_CASES))
@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
def test_qlinearconv_matches_exact_reference(cpu_path: str, case: str, per_channel: bool) -> None:
    for k, (xd, wd) in enumerate(DTYPE_PAIRS):
        inputs, attrs = random_case(case, xd, wd, per_channel, seed=k)
        want = expected_qlinearconv(inputs, attrs)
        for const_w in (True, False):
            got = run_xinrt(*qlinearconv_model(inputs, attrs, const_w))[0]
            assert got.dtype == want.dtype and got.shape == want.shape, (got.shape, want.shape)
            np.testing.assert_array_equal(got, want, err_msg=f"{xd.__name__}/{wd.__name__}")


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_qlinearconv_matches_onnxruntime(cpu_path: str, case: str) -> None:
    for k, (xd, wd) in enumerate(DTYPE_PAIRS[:3]):
        for per_channel in (False, True):
            if per_channel and wd == np.uint8:
                continue  # ORT needs one zero point across channels; ours are 128 here anyway
            inputs, attrs = random_case(case, xd, wd, per_channel, seed=10 + k, w_bits=7)
            model, feeds = qlinearconv_model(inputs, attrs, const_w=True)
            want = run_ort(model, feeds)[0]
            got = run_xinrt(model, feeds)[0]
            np.testing.assert_array_equal(got, want, err_msg=f"{xd.__name__}/{wd.__name__}")


def test_requantization_ties_round_half_even_and_saturate_like_onnxruntime(cpu_path: str) -> None:
    # scale 0.5 and odd accumulators put every value on a .5 tie; a tiny y_scale saturates.
    rng = np.random.default_rng(7)
    x = rng.integers(0, 40, (1, 4, 5, 5)).astype(np.uint8)
    w = rng.integers(-9, 10, (6, 4, 1, 1)).astype(np.int8)
    b = rng.integers(-50, 50, 6).astype(np.int32)
    for y_scale, y_dtype in ((1.0, np.uint8), (1.0, np.int8), (0.01, np.uint8), (0.01, np.int8)):
        yz = np.array(100 if y_dtype == np.uint8 else 0, y_dtype)
        # ONNX Runtime wants y of x's dtype.
        inputs: list[Any] = [
            x.astype(y_dtype),
            np.array(1.0, np.float32),
            np.array(0, y_dtype),
            w,
            np.array(0.5, np.float32),
            np.array(0, np.int8),
            np.array(y_scale, np.float32),
            yz,
            b,
        ]
        model, feeds = qlinearconv_model(inputs, {}, const_w=True)
        want = run_ort(model, feeds)[0]
        got = run_xinrt(model, feeds)[0]
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, expected_qlinearconv(inputs, {}))
        if y_scale == 1.0:  # the case really has ties, resolved to even
            acc = conv_accumulator(x, w, 0, np.zeros(1, np.int64), {}) + b.reshape(1, -1, 1, 1)
            assert np.any(acc % 2 == 1)
        else:
            info = np.iinfo(y_dtype)
            assert np.any(got == info.max) and np.any(got == info.min)


def convinteger_model(
    x: np.ndarray,
    w: np.ndarray,
    xz: np.ndarray | None,
    wz: np.ndarray | None,
    attrs: dict[str, Any],
) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    inits = [numpy_helper.from_array(w, "w")]
    names = ["x", "w", "", ""]
    if xz is not None:
        inits.append(numpy_helper.from_array(xz, "xz"))
        names[2] = "xz"
    if wz is not None:
        inits.append(numpy_helper.from_array(wz, "wz"))
        names[3] = "wz"
    while names[-1] == "":
        names.pop()
    node = helper.make_node("ConvInteger", names, ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "convinteger",
        [helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT32, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    return model, {"x": x}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_convinteger_matches_exact_reference_and_onnxruntime(cpu_path: str, case: str) -> None:
    x_shape, w_shape, attrs = CONV_CASES[case]
    rng = np.random.default_rng(21)
    for xd, wd in DTYPE_PAIRS:
        x = rng.integers(np.iinfo(xd).min, np.iinfo(xd).max + 1, x_shape).astype(xd)
        w = rng.integers(np.iinfo(wd).min, np.iinfo(wd).max + 1, w_shape).astype(wd)
        xz = np.array(rng.integers(-20, 20) + (128 if xd == np.uint8 else 0), xd)
        for wz in (None, np.array(7, wd), rng.integers(0, 9, w_shape[0]).astype(wd)):
            model, feeds = convinteger_model(x, w, xz, wz, attrs)
            got = run_xinrt(model, feeds)[0]
            zero = np.zeros(1, np.int64) if wz is None else wz.astype(np.int64)
            want = conv_accumulator(x, w, int(xz), zero, attrs).astype(np.int32)
            assert got.dtype == np.int32
            np.testing.assert_array_equal(got, want)
        if xd == np.uint8 and wd == np.uint8:  # the pair ONNX Runtime's ConvInteger runs
            model, feeds = convinteger_model(x, w, xz, np.array(5, wd), attrs)
            np.testing.assert_array_equal(run_xinrt(model, feeds)[0], run_ort(model, feeds)[0])


def test_bad_bias_raises_instead_of_reading_past_it() -> None:
    inputs, attrs = random_case("1x1", np.uint8, np.int8, False, seed=3)
    inputs[8] = np.zeros(5, np.int32)  # 24 output channels
    model, feeds = qlinearconv_model(inputs, attrs, const_w=False)
    with pytest.raises(ValueError, match="bias"):
        run_xinrt(model, feeds)


# ---- QDQ models made by onnxruntime.quantization.quantize_static -------------------------------


def small_cnn() -> onnx.ModelProto:
    """conv3x3+relu -> conv3x3/2 -> maxpool -> conv1x1 + residual add + relu -> GAP -> Gemm."""
    rng = np.random.default_rng(0)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)

    inits = {
        "w1": weight(8, 3, 3, 3),
        "b1": rng.normal(0, 0.1, 8).astype(np.float32),
        "w2": weight(16, 8, 3, 3),
        "b2": rng.normal(0, 0.1, 16).astype(np.float32),
        "w3": weight(16, 16, 1, 1),
        "b3": rng.normal(0, 0.1, 16).astype(np.float32),
        "wf": weight(10, 16),
        "bf": rng.normal(0, 0.1, 10).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("MaxPool", ["c2"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "w3", "b3"], ["c3"]),
        helper.make_node("Add", ["c3", "p"], ["s"]),
        helper.make_node("Relu", ["s"], ["r3"]),
        helper.make_node("GlobalAveragePool", ["r3"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "small_cnn",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def depthwise_block() -> onnx.ModelProto:
    """depthwise 3x3 -> 1x1 conv -> add the block input -> relu: a residual whose operands are
    stored in different layouts once fused (the quantized input stays NCHW)."""
    rng = np.random.default_rng(3)
    inits = {
        "wd": (rng.standard_normal((8, 1, 3, 3)) * 0.4).astype(np.float32),
        "w1": (rng.standard_normal((8, 8, 1, 1)) * 0.4).astype(np.float32),
        "b1": rng.normal(0, 0.1, 8).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "wd"], ["d"], group=8, pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["d", "w1", "b1"], ["c"]),
        helper.make_node("Add", ["x", "c"], ["s"]),
        helper.make_node("Relu", ["s"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "depthwise_block",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8, 9, 7])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 8, 9, 7])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def quantize_qdq(
    model: onnx.ModelProto, tmp_path: Any, per_channel: bool = False
) -> onnx.ModelProto:
    """quantize_static (QDQ, u8 activations, s8 weights) on four random calibration inputs."""
    from onnxruntime.quantization import CalibrationDataReader, quantize_static

    rng = np.random.default_rng(1)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    batches = [{"x": rng.standard_normal(shape).astype(np.float32)} for _ in range(4)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.it, None)

    src, dst = tmp_path / "fp32.onnx", tmp_path / "qdq.onnx"
    onnx.save(model, str(src))
    quantize_static(str(src), str(dst), Reader(), per_channel=per_channel)
    return onnx.load(str(dst))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def output_step(model: onnx.ModelProto) -> float:
    """The scale of the QuantizeLinear right before the graph output's DequantizeLinear."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    dq = producer[model.graph.output[0].name]
    return float(inits[dq.input[1]])


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
def test_qdq_cnn_fuses_to_integer_steps_and_matches_onnxruntime(
    cpu_path: str, per_channel: bool, tmp_path: Any
) -> None:
    model = quantize_qdq(small_cnn(), tmp_path, per_channel)
    plan = plan_for(model)
    ops = [s.rsplit("(", 1)[1].rstrip(")") for s in plan.steps]
    # Only the input's Q and the output's DQ stay float; everything between runs on integers.
    assert ops == [
        "QuantizeLinear",
        "QLinearConv",
        "QLinearConv",
        "QMaxPool",
        "QLinearConv",
        "QLinearAdd",
        "QLinearGlobalAveragePool",
        "Flatten",
        "QLinearGemm",
        "DequantizeLinear",
    ], plan.steps
    step = output_step(model)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
        got = plan.run([x])[0]
        want = run_ort(model, {"x": x})[0]
        steps = float(np.abs(got - want).max()) / step
        print(f"cosine {cosine(got, want):.6f}, max |diff| {steps:.1f} output steps")
        assert cosine(got, want) >= 0.999
        assert steps <= 2.0


def test_qdq_residual_with_operands_in_mixed_layouts_matches_onnxruntime(
    cpu_path: str, tmp_path: Any
) -> None:
    model = quantize_qdq(depthwise_block(), tmp_path)
    plan = plan_for(model)
    ops = [s.rsplit("(", 1)[1].rstrip(")") for s in plan.steps]
    assert ops.count("QLinearConv") == 2 and "QLinearAdd" in ops, plan.steps
    step = output_step(model)
    x = np.random.default_rng(6).standard_normal((1, 8, 9, 7)).astype(np.float32)
    got, want = plan.run([x])[0], run_ort(model, {"x": x})[0]
    assert float(np.abs(got - want).max()) / step <= 1.0
    assert cosine(got, want) >= 0.999


def mlp() -> onnx.ModelProto:
    """MatMul (3-D input) -> Relu -> MatMul, no biases."""
    rng = np.random.default_rng(8)
    inits = {
        "w1": (rng.standard_normal((16, 12)) * 0.3).astype(np.float32),
        "w2": (rng.standard_normal((12, 5)) * 0.3).astype(np.float32),
    }
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3, 16])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 3, 5])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
def test_qdq_matmul_fuses_to_qlineargemm_and_matches_onnxruntime(
    cpu_path: str, per_channel: bool, tmp_path: Any
) -> None:
    model = quantize_qdq(mlp(), tmp_path, per_channel)
    plan = plan_for(model)
    ops = [s.rsplit("(", 1)[1].rstrip(")") for s in plan.steps]
    assert ops.count("QLinearGemm") == 2 and "MatMul" not in ops, plan.steps
    x = np.random.default_rng(9).standard_normal((2, 3, 16)).astype(np.float32)
    got, want = plan.run([x])[0], run_ort(model, {"x": x})[0]
    assert got.shape == want.shape
    assert float(np.abs(got - want).max()) / output_step(model) <= 1.0
    assert cosine(got, want) >= 0.999


def test_qdq_add_of_a_broadcast_constant_between_convs_matches_onnxruntime(tmp_path: Any) -> None:
    # conv -> Add(constant [W]) -> conv: the constant broadcasts along W, which only an NCHW
    # operand means, so the fused Add must not run NHWC between the two convs.
    rng = np.random.default_rng(15)
    inits = {
        "w1": (rng.standard_normal((6, 4, 3, 3)) * 0.3).astype(np.float32),
        "k": rng.standard_normal(7).astype(np.float32),
        "w2": (rng.standard_normal((5, 6, 1, 1)) * 0.3).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "k"], ["s"]),
        helper.make_node("Conv", ["s", "w2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "broadcast_add",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 9, 7])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 5, 9, 7])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = quantize_qdq(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8),
        tmp_path,
    )
    plan = plan_for(model)
    ops = [s.rsplit("(", 1)[1].rstrip(")") for s in plan.steps]
    assert ops.count("QLinearConv") == 2 and "QLinearAdd" in ops, plan.steps
    x = np.random.default_rng(16).standard_normal((1, 4, 9, 7)).astype(np.float32)
    got, want = plan.run([x])[0], run_ort(model, {"x": x})[0]
    assert float(np.abs(got - want).max()) / output_step(model) <= 1.0
    assert cosine(got, want) >= 0.999


def test_conv_whose_float_output_is_also_a_graph_output_is_not_fused(tmp_path: Any) -> None:
    model = quantize_qdq(small_cnn(), tmp_path)
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    model.graph.output.append(
        helper.make_tensor_value_info(conv.output[0], onnx.TensorProto.FLOAT, None)
    )
    plan = plan_for(model)
    ops = [s.rsplit("(", 1)[1].rstrip(")") for s in plan.steps]
    assert ops.count("Conv") == 1 and ops.count("QLinearConv") == 2, plan.steps
    x = np.random.default_rng(4).standard_normal((1, 3, 16, 16)).astype(np.float32)
    got, want = plan.run([x]), run_ort(model, {"x": x})
    # The float Conv output is the unfused ops' result: float32 rounding only.
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-4)
    assert cosine(got[0], want[0]) >= 0.999


def test_qdq_cnn_runs_wholly_on_the_cpu_backend(tmp_path: Any) -> None:
    # The Q/DQ kernels the unfused parts need (an int32 DQ holds each Conv/Gemm bias).
    probes = [
        ("QuantizeLinear", ["float32", "float32", "uint8"]),
        ("DequantizeLinear", ["uint8", "float32", "uint8"]),
        ("DequantizeLinear", ["int32", "float32", "int32"]),
    ]
    for op, dtypes in probes:
        reason = _native.check_node(op, "", 13, dtypes, [None, [], []], {}, 1)
        if reason:
            pytest.skip(f"{op} on {dtypes[0]} has no native kernel yet ({reason})")
    from xinrt import InferenceSession

    model = quantize_qdq(small_cnn(), tmp_path)
    session = InferenceSession(model, backends=["cpu"])
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    x = np.random.default_rng(5).standard_normal((1, 3, 16, 16)).astype(np.float32)
    got = session.run(None, {"x": x})[0]
    assert cosine(got, run_ort(model, {"x": x})[0]) >= 0.999


# ---- the interim QuantizeLinear/DequantizeLinear this branch registers when none exist ---------


def one_node(op: str, inputs: list[np.ndarray], attrs: dict[str, Any], out: int) -> onnx.ModelProto:
    """One node whose first input is fed and the rest (scale, zero point) are initializers."""
    names = ["x", "s", "z"][: len(inputs)]
    node = helper.make_node(op, names, ["y"], **attrs)
    x = inputs[0]
    graph = helper.make_graph(
        [node],
        op,
        [helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)],
        [helper.make_tensor_value_info("y", out, None)],
        [numpy_helper.from_array(v, n) for n, v in zip(names[1:], inputs[1:])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("per_axis", [False, True], ids=["per_tensor", "per_axis"])
def test_quantize_dequantize_match_onnxruntime(dtype: type, per_axis: bool) -> None:
    rng = np.random.default_rng(11)
    # Multiples of scale / 2 put values on ties; the wide range saturates.
    scale = np.array([0.5, 0.25, 2.0], np.float32) if per_axis else np.array(0.5, np.float32)
    zero: np.ndarray = (np.array([3, 0, 7]) if per_axis else np.array(5)).astype(dtype)
    x = (rng.integers(-700, 700, (2, 3, 4, 5)) * 0.25).astype(np.float32)
    model = one_node(
        "QuantizeLinear", [x, scale, zero], {"axis": 1}, helper.np_dtype_to_tensor_dtype(zero.dtype)
    )
    q = run_xinrt(model, {"x": x})[0]
    assert q.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(q, run_ort(model, {"x": x})[0])
    info = np.iinfo(dtype)
    assert np.any(q == info.min) and np.any(q == info.max)
    model = one_node("DequantizeLinear", [q, scale, zero], {"axis": 1}, onnx.TensorProto.FLOAT)
    np.testing.assert_array_equal(run_xinrt(model, {"x": q})[0], run_ort(model, {"x": q})[0])


def test_dequantize_int32_matches_onnxruntime() -> None:
    x = np.random.default_rng(12).integers(-(2**20), 2**20, (3, 7)).astype(np.int32)
    model = one_node(
        "DequantizeLinear", [x, np.array(0.013, np.float32)], {}, onnx.TensorProto.FLOAT
    )
    np.testing.assert_array_equal(run_xinrt(model, {"x": x})[0], run_ort(model, {"x": x})[0])


def test_conv_whose_bias_scale_is_not_x_scale_times_w_scale_is_not_fused(tmp_path: Any) -> None:
    model = quantize_qdq(small_cnn(), tmp_path)
    producer = {o: n for n in model.graph.node for o in n.output}
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    bias_scale = producer[conv.input[2]].input[1]
    init = next(t for t in model.graph.initializer if t.name == bias_scale)
    init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(1.5), init.name))
    plan = plan_for(model)
    ops = [s.rsplit("(", 1)[1].rstrip(")") for s in plan.steps]
    assert ops.count("Conv") == 1 and ops.count("QLinearConv") == 2, plan.steps
    # The unfused ops' own result: ORT with its QDQ fusions off.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    x = np.random.default_rng(13).standard_normal((1, 3, 16, 16)).astype(np.float32)
    got, want = plan.run([x])[0], session.run(None, {"x": x})[0]
    assert float(np.abs(got - want).max()) / output_step(model) <= 1.0


@pytest.mark.parametrize("relu", [False, True], ids=["add", "add_relu"])
def test_fused_qlinearadd_is_bit_exact_to_the_unfused_ops(cpu_path: str, relu: bool) -> None:
    # Hand-made DQ, DQ -> Add [-> Relu] -> Q over 1003 values (a vector tail), with scales that
    # make exact ties and both saturation ends.
    rng = np.random.default_rng(14)
    a, b = (rng.integers(0, 256, (1, 1003)).astype(np.uint8) for _ in range(2))
    inits: dict[str, np.ndarray] = {
        "sa": np.array(0.5, np.float32),
        "za": np.array(128, np.uint8),
        "sb": np.array(0.25, np.float32),
        "zb": np.array(7, np.uint8),
        "sy": np.array(0.5, np.float32),
        "zy": np.array(100, np.uint8),
    }
    nodes = [
        helper.make_node("DequantizeLinear", ["a", "sa", "za"], ["fa"]),
        helper.make_node("DequantizeLinear", ["b", "sb", "zb"], ["fb"]),
        helper.make_node("Add", ["fa", "fb"], ["s"]),
        helper.make_node("Relu", ["s"], ["r"])
        if relu
        else helper.make_node("Identity", ["s"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "sy", "zy"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "qadd",
        [helper.make_tensor_value_info(n, onnx.TensorProto.UINT8, [1, 1003]) for n in "ab"],
        [helper.make_tensor_value_info("y", onnx.TensorProto.UINT8, None)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    plan = plan_for(model)
    if relu:
        assert [s.rsplit("(", 1)[1] for s in plan.steps] == ["QLinearAdd)"], plan.steps
    f = (a.astype(np.int32) - 128).astype(np.float32) * np.float32(0.5) + (
        b.astype(np.int32) - 7
    ).astype(np.float32) * np.float32(0.25)
    if relu:
        f = np.maximum(f, np.float32(0))
    want = np.clip(np.rint(f / np.float32(0.5)) + 100, 0, 255).astype(np.uint8)
    assert np.any(np.abs(f / np.float32(0.5)) % 1 == 0.5)  # ties exist
    np.testing.assert_array_equal(plan.run([a, b])[0], want)
