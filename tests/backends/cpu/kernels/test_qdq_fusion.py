"""The QDQ fusion (csrc/core/plan_qdq_fusion.cc) fuses the groups ONNX Runtime fuses and computes
them with ORT's arithmetic (kernels/qconv_eltwise.cc): bit-exact quantized outputs on seeded
random inputs, on every SIMD path, where the float ops would differ."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.backends.cpu.native_helpers import dequantized_weight_conv_model, plan_for
from tests.backends.cpu.simd_paths import SIMD_PATHS, use_simd_path

pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")

F32 = np.float32


@pytest.fixture(params=SIMD_PATHS)
def cpu_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once per kernel path (portable baseline included)."""
    return use_simd_path(request.param, monkeypatch)


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """ONNX Runtime's CPU EP with its default (QDQ-fusing) optimizations."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return list(session.run(None, feeds))


def step_ops(model: onnx.ModelProto) -> list[str]:
    """The op type of each step of the native plan, after fusion."""
    return [s.rsplit("(", 1)[1].rstrip(")") for s in plan_for(model).steps]


def qdq_model(
    op_nodes: list[onnx.NodeProto],
    inputs: dict[str, tuple[Any, list[int], float, int]],
    output: tuple[str, Any, float, int],
    opset: int = 13,
) -> onnx.ModelProto:
    """Quantized graph inputs -> DequantizeLinear -> `op_nodes` -> QuantizeLinear -> output.

    inputs: name -> (dtype, shape, scale, zero point); the op nodes read `<name>_f`.
    output: (float tensor the Q reads, dtype, scale, zero point); the graph output is `y`.
    """
    nodes, inits, graph_inputs = [], [], []
    for name, (dtype, shape, scale, zero) in inputs.items():
        inits += [
            numpy_helper.from_array(np.array(scale, F32), f"{name}_s"),
            numpy_helper.from_array(np.array(zero, dtype), f"{name}_z"),
        ]
        nodes.append(
            helper.make_node("DequantizeLinear", [name, f"{name}_s", f"{name}_z"], [f"{name}_f"])
        )
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        graph_inputs.append(helper.make_tensor_value_info(name, elem, shape))
    source, dtype, scale, zero = output
    inits += [
        numpy_helper.from_array(np.array(scale, F32), "y_s"),
        numpy_helper.from_array(np.array(zero, dtype), "y_z"),
    ]
    nodes += op_nodes
    nodes.append(helper.make_node("QuantizeLinear", [source, "y_s", "y_z"], ["y"]))
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        nodes, "qdq", graph_inputs, [helper.make_tensor_value_info("y", elem, None)], inits
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def float_add(a: np.ndarray, b: np.ndarray, qa: Any, qb: Any, qy: Any, lo: int, hi: int) -> Any:
    """Q(DQ(a) + DQ(b)) in float32, the unfused ops (what the fused step computed before)."""
    f = (a.astype(np.int32) - qa[1]).astype(F32) * F32(qa[0]) + (b.astype(np.int32) - qb[1]).astype(
        F32
    ) * F32(qb[0])
    return np.clip(np.rint(f / F32(qy[0])) + qy[1], lo, hi)


# ---- QLinearAdd ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize(
    "shapes",
    [((256, 256), (256, 256)), ((256, 1), (1, 256)), ((1, 256), (256, 1))],
    ids=["same_shape", "a_broadcast_along_runs", "b_broadcast_along_runs"],
)
def test_qlinearadd_is_bit_exact_to_onnxruntime(cpu_path: str, dtype: Any, shapes: Any) -> None:
    # Every (a, b) pair of the type for 12 random scale/zero-point sets: ORT's QLinearAdd (float
    # ratios, FMAs, the zero points folded into one constant) differs from the float ops on a
    # few of them, and every one must come out as ORT's.
    info = np.iinfo(dtype)
    values = np.arange(info.min, info.max + 1).astype(dtype)
    rng = np.random.default_rng(21)
    float_differs = 0
    for _ in range(12):
        qa, qb, qy = (
            (float(rng.uniform(0.005, 0.1)), int(rng.integers(info.min, info.max + 1)))
            for _ in range(3)
        )
        a_shape, b_shape = shapes
        if a_shape == b_shape:
            a, b = np.meshgrid(values, values, indexing="ij")
        else:
            a, b = values.reshape(a_shape), values.reshape(b_shape)
        model = qdq_model(
            [helper.make_node("Add", ["a_f", "b_f"], ["s"])],
            {"a": (dtype, list(a.shape), *qa), "b": (dtype, list(b.shape), *qb)},
            ("s", dtype, *qy),
        )
        assert step_ops(model) == ["QLinearAdd"]
        feeds = {"a": np.ascontiguousarray(a), "b": np.ascontiguousarray(b)}
        want = run_ort(model, feeds)[0]
        np.testing.assert_array_equal(plan_for(model).run([feeds["a"], feeds["b"]])[0], want)
        float_differs += int((float_add(a, b, qa, qb, qy, info.min, info.max) != want).sum())
    assert float_differs > 0  # the float ops are not ORT's arithmetic here


def test_qlinearadd_with_a_relu_the_q_makes_redundant_is_onnxruntimes(cpu_path: str) -> None:
    # Add -> Relu -> Q with a uint8 zero point of 0: ORT drops the Relu and fuses the Add.
    values = np.arange(256).astype(np.uint8)
    a, b = (np.ascontiguousarray(v) for v in np.meshgrid(values, values, indexing="ij"))
    rng = np.random.default_rng(22)
    for _ in range(6):
        qa, qb = ((float(rng.uniform(0.005, 0.1)), int(rng.integers(0, 256))) for _ in range(2))
        model = qdq_model(
            [
                helper.make_node("Add", ["a_f", "b_f"], ["s"]),
                helper.make_node("Relu", ["s"], ["r"]),
            ],
            {"a": (np.uint8, [256, 256], *qa), "b": (np.uint8, [256, 256], *qb)},
            ("r", np.uint8, float(rng.uniform(0.005, 0.1)), 0),
        )
        assert step_ops(model) == ["QLinearAdd"]
        np.testing.assert_array_equal(
            plan_for(model).run([a, b])[0], run_ort(model, {"a": a, "b": b})[0]
        )


# ---- QLinearAveragePool -------------------------------------------------------------------------

POOL_CASES: dict[str, tuple[list[int], dict[str, Any]]] = {
    "k2_s2": ([1, 8, 12, 10], {"kernel_shape": [2, 2], "strides": [2, 2]}),
    "k3_pads": ([2, 3, 9, 7], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    "k3_pads_include_pad": (
        [1, 4, 7, 8],
        {"kernel_shape": [3, 3], "pads": [1, 0, 1, 2], "count_include_pad": 1},
    ),
    "ceil_mode": ([1, 3, 9, 9], {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    "same_upper": ([1, 2, 7, 6], {"kernel_shape": [3, 2], "auto_pad": "SAME_UPPER"}),
    "one_d": ([2, 5, 17], {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    "whole_image": ([1, 6, 5, 7], {"kernel_shape": [5, 7]}),
}


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("case", list(POOL_CASES))
def test_qlinear_averagepool_is_bit_exact_to_onnxruntime(
    cpu_path: str, dtype: Any, case: str
) -> None:
    shape, attrs = POOL_CASES[case]
    info = np.iinfo(dtype)
    rng = np.random.default_rng(23)
    # Scales of 1 with an odd output zero point put means on .5 ties (ORT rounds mean / scale +
    # zero, the float ops round mean / scale), then random scales.
    params = [((1.0, 0), (1.0, 3))] + [
        tuple(
            (float(rng.uniform(0.01, 0.1)), int(rng.integers(info.min, info.max + 1))) for _ in "xy"
        )
        for _ in range(3)
    ]
    for qx, qy in params:
        model = qdq_model(
            [helper.make_node("AveragePool", ["x_f"], ["p"], **attrs)],
            {"x": (dtype, shape, *qx)},
            ("p", dtype, *qy),
            opset=19,
        )
        assert step_ops(model) == ["QLinearAveragePool"]
        x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
        want = run_ort(model, {"x": x})[0]
        np.testing.assert_array_equal(plan_for(model).run([x])[0], want)


def test_averagepool_with_dilations_is_not_fused() -> None:
    # ORT's QLinearAveragePool ignores dilations: the group is left to the float AveragePool,
    # which declines dilations itself.
    from xinrt import _native

    model = qdq_model(
        [helper.make_node("AveragePool", ["x_f"], ["p"], kernel_shape=[2, 2], dilations=[2, 2])],
        {"x": (np.uint8, [1, 2, 8, 8], 0.05, 7)},
        ("p", np.uint8, 0.05, 7),
        opset=19,
    )
    with pytest.raises(_native.PlanError, match="AveragePool: dilations"):
        plan_for(model)


# ---- Conv bias scales ---------------------------------------------------------------------------


def conv_chain(ratios: list[float], bias: np.ndarray) -> onnx.ModelProto:
    """QDQ convolutions in a chain sharing one int32 bias DQ whose scale fits the first
    exactly and each next one by bias_scale / (x_scale * w_scale) = ratio; every Q output is a
    graph output."""
    rng = np.random.default_rng(24)
    c, bs = bias.size, 1e-3
    inits = [
        numpy_helper.from_array(bias, "bq"),
        numpy_helper.from_array(np.array(bs, F32), "bs"),
        numpy_helper.from_array(np.array(0.05, F32), "s"),
        numpy_helper.from_array(np.array(128, np.uint8), "z"),
    ]
    nodes = [helper.make_node("DequantizeLinear", ["bq", "bs"], ["bf"])]
    outputs, current = [], "x"
    for i, ratio in enumerate(ratios):
        w = rng.integers(-127, 128, (c, c, 3, 3)).astype(np.int8)
        inits += [
            numpy_helper.from_array(w, f"w{i}"),
            numpy_helper.from_array(np.array(bs / ratio / 0.05, F32), f"ws{i}"),
        ]
        nodes += [
            helper.make_node("DequantizeLinear", [current, "s", "z"], [f"xf{i}"]),
            helper.make_node("DequantizeLinear", [f"w{i}", f"ws{i}"], [f"wf{i}"]),
            helper.make_node("Conv", [f"xf{i}", f"wf{i}", "bf"], [f"c{i}"], pads=[1, 1, 1, 1]),
            helper.make_node("QuantizeLinear", [f"c{i}", "s", "z"], [f"q{i}"]),
        ]
        outputs.append(helper.make_tensor_value_info(f"q{i}", TensorProto.UINT8, None))
        current = f"q{i}"
    graph = helper.make_graph(
        nodes,
        "convs",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, c, 6, 6])],
        outputs,
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("zero_bias", [False, True], ids=["bias", "zero_bias"])
def test_conv_bias_scale_decides_the_fusion_as_onnxruntime_does(zero_bias: bool) -> None:
    # ORT fuses a Conv whose bias scale is off x_scale * w_scale by up to 1e-6 + 1% (ratio 0.995)
    # and adds the integers as they are; further off (ratio 0.5), even a zero bias stays float.
    bias = np.zeros(4, np.int32) if zero_bias else np.array([300, -120, 45, -7], np.int32)
    model = conv_chain([1.0, 0.995, 0.5], bias)
    assert step_ops(model) == [
        "QLinearConv",
        "QLinearConv",
        "DequantizeLinear",
        "Conv",
        "QuantizeLinear",
    ]
    x = np.random.default_rng(25).integers(0, 256, (1, 4, 6, 6)).astype(np.uint8)
    got, want = plan_for(model).run([x]), run_ort(model, {"x": x})
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    # The float convolution: ORT's float sums round their own way, within one step.
    assert int(np.abs(got[2].astype(np.int32) - want[2].astype(np.int32)).max()) <= 1


def test_float_conv_of_dequantized_weights_sums_in_onnxruntimes_order(cpu_path: str) -> None:
    # A Conv ORT leaves in float (here: no Q after it) runs MLAS's SGEMM, which sums K in blocks
    # of 128; the native SGEMM blocks K the same way, so with FMAs the sums are ORT's bit for bit
    # (K = 32 * 3 * 3 = 288: blocks of 128, 128, 32). The portable path has no FMA.
    if cpu_path == "baseline":
        pytest.skip("the portable kernel rounds each product (no FMA), as MLAS does not")
    rng = np.random.default_rng(26)
    w = rng.integers(-127, 128, (16, 32, 3, 3)).astype(np.int8)
    model = dequantized_weight_conv_model(w, (1, 32, 24, 24))
    x = rng.standard_normal((1, 32, 24, 24)).astype(F32)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1  # MLAS's K blocks depend on its per-thread column count
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    np.testing.assert_array_equal(plan_for(model).run([x])[0], session.run(None, {"x": x})[0])
