"""Plan-level fusions (core/plan_fusion.cc: Conv + BatchNormalization, + Add residual, + Relu,
MatMul + bias, Erf-GELU) keep the results."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.native_helpers import GEMM_TOL, plan_for, rand  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


def make_model(nodes, inputs, outputs, initializers, opset=11):
    graph = helper.make_graph(
        nodes,
        "fusion",
        [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(v, k) for k, v in initializers.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def assert_plan_matches_reference(model, feeds):
    expected = ReferenceEvaluator(model).run(None, feeds)
    actual = plan_for(model).run([feeds[i.name] for i in model.graph.input])
    for a, e in zip(actual, expected):
        assert a.shape == e.shape
        np.testing.assert_allclose(a, e, **GEMM_TOL)


def conv_bn_params(rng, c_in, c_out, k=3):
    return {
        "w": rand(rng, (c_out, c_in, k, k), low=-1, high=1) / np.float32(np.sqrt(c_in * k * k)),
        "b": rand(rng, (c_out,)),
        "scale": rand(rng, (c_out,), low=0.5, high=1.5),
        "beta": rand(rng, (c_out,)),
        "mean": rand(rng, (c_out,), low=-0.5, high=0.5),
        "var": rand(rng, (c_out,), low=0.5, high=2.0),
    }


def _run_chain(nodes, inputs, constants, outputs, threads=2):
    plan = _native.Plan(nodes, 20, list(range(len(inputs))), outputs, constants, threads)
    return plan, plan.run(inputs)


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("with_relu", [True, False])
@pytest.mark.usefixtures("cpu_path")
def test_conv_batchnorm_relu_chain(with_bias, with_relu):
    rng = np.random.default_rng(30)
    p = conv_bn_params(rng, 5, 7)
    if not with_bias:
        del p["b"]
    nodes = [
        helper.make_node(
            "Conv", ["x", "w"] + (["b"] if with_bias else []), ["c"], name="conv", pads=[1, 1, 1, 1]
        ),
        helper.make_node(
            "BatchNormalization",
            ["c", "scale", "beta", "mean", "var"],
            ["n"],
            name="bn",
            epsilon=1e-3,
        ),
    ]
    if with_relu:
        nodes.append(helper.make_node("Relu", ["n"], ["y"], name="relu"))
    model = make_model(
        nodes, [("x", [2, 5, 9, 9])], ["y" if with_relu else "n"], p, opset=15
    )  # BN-15: onnx.reference uses running stats
    assert_plan_matches_reference(model, {"x": rand(rng, (2, 5, 9, 9))})


def test_fusion_keeps_intermediates_that_are_outputs():
    rng = np.random.default_rng(31)
    p = conv_bn_params(rng, 3, 4)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node(
            "BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"], name="bn"
        ),
        helper.make_node("Relu", ["n"], ["y"], name="relu"),
    ]
    model = make_model(
        nodes, [("x", [1, 3, 6, 6])], ["y", "c", "n"], p, opset=15
    )  # BN-15: onnx.reference uses running stats
    assert_plan_matches_reference(model, {"x": rand(rng, (1, 3, 6, 6))})


def test_fusion_skips_an_intermediate_with_two_readers():
    rng = np.random.default_rng(32)
    p = conv_bn_params(rng, 3, 4)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Sigmoid", ["c"], ["s"], name="sig"),
        helper.make_node("Add", ["r", "s"], ["y"], name="add"),
    ]
    model = make_model(nodes, [("x", [1, 3, 6, 6])], ["y"], p, opset=13)
    assert_plan_matches_reference(model, {"x": rand(rng, (1, 3, 6, 6))})


@pytest.mark.parametrize("op", ["Add", "Sum"])
@pytest.mark.parametrize("conv_first", [True, False])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.usefixtures("cpu_path")
def test_residual_block_conv_bn_add_relu(op, conv_first, relu):
    # ResNet's block end: conv -> bn -> Sum(., shortcut) -> relu, where the shortcut conv is
    # computed after the main branch in node order.
    rng = np.random.default_rng(33)
    main = conv_bn_params(rng, 4, 6, k=3)
    short = {f"s_{k}": v for k, v in conv_bn_params(rng, 4, 6, k=1).items()}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"], name="bn"
        ),
        helper.make_node("Conv", ["x", "s_w", "s_b"], ["sc"], name="short_conv"),
        helper.make_node(op, ["n", "sc"] if conv_first else ["sc", "n"], ["sum"], name="add"),
    ]
    if relu:
        nodes.append(helper.make_node("Relu", ["sum"], ["y"], name="relu"))
    model = make_model(
        nodes, [("x", [1, 4, 8, 8])], ["y" if relu else "sum"], {**main, **short}, opset=15
    )  # BN-15: onnx.reference uses running stats
    assert_plan_matches_reference(model, {"x": rand(rng, (1, 4, 8, 8))})


def test_resnet_block_runs_as_two_fused_kernels():
    rng = np.random.default_rng(36)
    main = conv_bn_params(rng, 4, 4, k=3)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"], name="bn"
        ),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("Conv", ["r", "w", "b"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Sum", ["c2", "x"], ["s"], name="sum"),
        helper.make_node("Relu", ["s"], ["y"], name="relu2"),
    ]
    model = make_model(nodes, [("x", [1, 4, 6, 6])], ["y"], main, opset=15)
    assert plan_for(model).steps == ["conv+bn+relu (Conv)", "conv2+sum+relu2 (Conv)"]
    assert_plan_matches_reference(model, {"x": rand(rng, (1, 4, 6, 6))})


def test_constant_subgraphs_are_folded_at_plan_time():
    shape = np.array([4, 3, 1, 1], np.int64)
    nodes = [
        helper.make_node(
            "ConstantOfShape",
            ["shape"],
            ["w"],
            name="make_w",
            value=numpy_helper.from_array(np.array([0.5], np.float32)),
        ),
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv"),
    ]
    graph = helper.make_graph(
        nodes,
        "folded",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 5, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        [numpy_helper.from_array(shape, "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=8)
    assert plan_for(model).steps == ["conv (Conv)"]
    assert_plan_matches_reference(model, {"x": rand(np.random.default_rng(37), (1, 3, 5, 5))})


def test_residual_that_broadcasts_or_is_depthwise_still_matches():
    rng = np.random.default_rng(34)
    w = rand(rng, (4, 1, 3, 3))
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="dw", group=4, pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "r"], ["a"], name="add"),
        helper.make_node("Conv", ["a", "w2"], ["c2"], name="conv2"),
        helper.make_node("Add", ["c2", "r2"], ["y"], name="add2"),
        helper.make_node("Relu", ["y"], ["z"], name="relu"),
    ]
    w2 = rand(rng, (3, 4, 1, 1))
    model = make_model(
        nodes,
        [("x", [1, 4, 5, 5]), ("r", [1, 4, 5, 5]), ("r2", [3, 1, 1])],
        ["z"],
        {"w": w, "w2": w2},
        opset=13,
    )
    feeds = {"x": rand(rng, (1, 4, 5, 5)), "r": rand(rng, (1, 4, 5, 5)), "r2": rand(rng, (3, 1, 1))}
    assert_plan_matches_reference(model, feeds)


def test_conv_with_runtime_weights_is_not_folded():
    rng = np.random.default_rng(35)
    p = conv_bn_params(rng, 3, 4)
    w = p.pop("w")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node(
            "BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["y"], name="bn"
        ),
    ]
    model = make_model(
        nodes, [("x", [1, 3, 6, 6]), ("w", list(w.shape))], ["y"], p, opset=15
    )  # BN-15: onnx.reference uses running stats
    assert_plan_matches_reference(model, {"x": rand(rng, (1, 3, 6, 6)), "w": w})


@pytest.mark.parametrize("strides", [[1, 1], [2, 2], [3, 2]])
@pytest.mark.usefixtures("cpu_path")
def test_depthwise_conv_relu_fuses_and_matches(strides):
    rng = np.random.default_rng(31)
    w = rand(rng, (34, 1, 3, 3), low=-1, high=1)
    b = rand(rng, (34,), low=-1, high=1)
    nodes = [
        helper.make_node(
            "Conv", ["x", "w", "b"], ["c"], name="dw", group=17, strides=strides, pads=[1, 0, 1, 2]
        ),
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
    ]
    model = make_model(nodes, [("x", [1, 17, 13, 19])], ["y"], {"w": w, "b": b})
    assert plan_for(model).steps == ["dw+relu (Conv)"]
    assert_plan_matches_reference(model, {"x": rand(rng, (1, 17, 13, 19), low=-1, high=1)})


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
