"""Issue 16, native side: shapes that overflow, lengths near +-2**63 and attributes ONNX Runtime
refuses give a clear InvalidModelError naming the node (never heap memory or a crash), and the
edge cases ONNX Runtime computes are computed the same."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt
from tests.helpers import make_model, tensor

pytest.importorskip("xinrt._native")

F = TensorProto.FLOAT
CHAINS = [None, ["cpu"]]  # the default chain, and the native backend alone


def _i64(name: str, values) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def _run(model: onnx.ModelProto, feeds: dict, backends=None) -> list[np.ndarray]:
    return xinrt.InferenceSession(model, backends=backends).run(None, feeds)


def _ort(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, feeds
    )


def _reshape_then(op: str) -> onnx.ModelProto:
    """The issue's model: Reshape a 4-float input to [2**62+1, 2, 2] (the shape stored in the
    model), then `op` on the result."""
    after = {
        "Slice": helper.make_node("Slice", ["r", "starts", "ends"], ["y"], name="after"),
        "Gather": helper.make_node("Gather", ["r", "idx"], ["y"], name="after", axis=0),
        "Concat": helper.make_node("Concat", ["r", "r"], ["y"], name="after", axis=0),
    }[op]
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape_big"), after]
    inits = [
        _i64("shape", [2**62 + 1, 2, 2]),
        _i64("starts", [0]),
        _i64("ends", [2**40]),
        _i64("idx", [5, 2**40]),
    ]
    return make_model(nodes, [tensor("x", [4])], [tensor("y", ["a", "b", "c"])], inits, opset=17)


@pytest.mark.parametrize("backends", CHAINS, ids=["default", "cpu"])
@pytest.mark.parametrize("op", ["Slice", "Gather", "Concat"])
def test_reshape_to_overflowing_shape_is_invalid_model_naming_the_node(op, backends):
    x = np.arange(4, dtype=np.float32)
    with pytest.raises(
        xinrt.InvalidModelError, match=r"reshape_big.*(too many elements|overflows int64)"
    ):
        _run(_reshape_then(op), {"x": x}, backends)


def test_shape_overflow_from_a_fed_shape_is_caught_too():
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_fed")]
    model = make_model(
        nodes,
        [tensor("x", [4]), tensor("shape", ["rank"], TensorProto.INT64)],
        [tensor("y", ["a", "b"])],
    )
    sess = xinrt.InferenceSession(model, backends=["cpu"])
    feeds = {"x": np.ones(4, np.float32), "shape": np.array([2**62 + 1, 2, 2], np.int64)}
    with pytest.raises(xinrt.InvalidModelError, match="reshape_fed"):
        sess.run(None, feeds)
    # The session stays usable.
    feeds["shape"] = np.array([2, 2], np.int64)
    np.testing.assert_array_equal(sess.run(None, feeds)[0], np.ones((2, 2), np.float32))


def test_overflowing_constant_shape_is_reported_at_run_not_declined():
    """All-constant inputs fold at plan time; an impossible shape there is still an invalid
    model (reported when run) rather than the backend declining the node."""
    value = helper.make_tensor("value", F, [1], [1.0])
    nodes = [
        helper.make_node("ConstantOfShape", ["dims"], ["c"], name="huge_constant", value=value),
        helper.make_node("Add", ["x", "c"], ["y"], name="add"),
    ]
    model = make_model(
        nodes, [tensor("x", [1])], [tensor("y", ["a", "b"])], [_i64("dims", [2**62, 4])]
    )
    sess = xinrt.InferenceSession(model, backends=["cpu"])
    with pytest.raises(xinrt.InvalidModelError, match="huge_constant"):
        sess.run(None, {"x": np.ones(1, np.float32)})


SLICE_CASES = [  # (starts, ends, steps) on a length-10 axis, as ONNX Runtime answers them
    (0, 10, 2**63 - 1),
    (-1, -(2**63), -(2**63)),
    (9, -(2**63), -(2**63) + 1),
    (3, 2**63 - 1, 2**62),
    (2**63 - 1, -(2**63), -3),
    (-(2**63), 2**63 - 1, 3),
]


@pytest.mark.parametrize("starts,ends,steps", SLICE_CASES, ids=str)
def test_slice_with_steps_near_int64_limits_matches_onnxruntime(starts, ends, steps):
    nodes = [helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="slice")]
    inits = [_i64("s", [starts]), _i64("e", [ends]), _i64("a", [0]), _i64("st", [steps])]
    model = make_model(nodes, [tensor("x", [10])], [tensor("y", ["n"])], inits, opset=17)
    x = np.random.default_rng(3).standard_normal(10).astype(np.float32)
    want = _ort(model, {"x": x})[0]
    for backends in CHAINS:
        np.testing.assert_array_equal(_run(model, {"x": x}, backends)[0], want)


def test_reduce_mean_over_an_empty_axis_gives_zero_as_onnxruntime():
    nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["y"], name="mean", keepdims=0)]
    model = make_model(
        nodes, [tensor("x", [2, 0])], [tensor("y", [2])], [_i64("axes", [1])], opset=18
    )
    x = np.zeros((2, 0), np.float32)
    want = _ort(model, {"x": x})[0]
    got = _run(model, {"x": x}, ["cpu"])[0]
    np.testing.assert_array_equal(got, want)
    assert not np.isnan(got).any()


def _refused_by_onnxruntime(model: onnx.ModelProto, feeds: dict) -> None:
    with pytest.raises(Exception):  # noqa: B017 - ORT raises its own exception types
        _ort(model, feeds)


def _assert_refused_like_onnxruntime(model: onnx.ModelProto, feeds: dict, match: str) -> None:
    _refused_by_onnxruntime(model, feeds)
    with pytest.raises(xinrt.InvalidModelError, match=match):
        _run(model, feeds, ["cpu"])


@pytest.mark.parametrize("pads", [[0, 4, 0, 0], [0, 0, 0, 5], [3, 0, 0, 0]], ids=str)
def test_pad_reflect_beyond_the_axis_is_refused_as_onnxruntime(pads):
    nodes = [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad_reflect", mode="reflect")]
    model = make_model(
        nodes, [tensor("x", [3, 4])], [tensor("y", ["a", "b"])], [_i64("pads", pads)], opset=18
    )
    feeds = {"x": np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)}
    _assert_refused_like_onnxruntime(model, feeds, "pad_reflect.*smaller than axis")


def test_pad_reflect_up_to_the_axis_minus_one_still_matches_onnxruntime():
    nodes = [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad", mode="reflect")]
    model = make_model(
        nodes,
        [tensor("x", [3, 4])],
        [tensor("y", ["a", "b"])],
        [_i64("pads", [2, 3, 1, 0])],
        opset=18,
    )
    feeds = {"x": np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)}
    np.testing.assert_array_equal(_run(model, feeds, ["cpu"])[0], _ort(model, feeds)[0])


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_with_pads_not_smaller_than_kernel_is_refused_as_onnxruntime(op):
    nodes = [
        helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=[2, 2], pads=[0, 0, 2, 0])
    ]
    model = make_model(nodes, [tensor("x", [1, 1, 5, 5])], [tensor("y", ["n", "c", "h", "w"])])
    feeds = {"x": np.random.default_rng(3).standard_normal((1, 1, 5, 5)).astype(np.float32)}
    _assert_refused_like_onnxruntime(model, feeds, "pool.*smaller than kernel_shape")


@pytest.mark.parametrize("strides,output_padding,dilations", [(1, 1, 1), (2, 2, 1), (1, 1, 2)])
def test_conv_transpose_output_padding_not_below_stride_is_refused_as_onnxruntime(
    strides, output_padding, dilations
):
    w = numpy_helper.from_array(
        np.random.default_rng(4).standard_normal((1, 1, 3, 3)).astype(np.float32), "w"
    )
    nodes = [
        helper.make_node(
            "ConvTranspose",
            ["x", "w"],
            ["y"],
            name="deconv",
            strides=[strides] * 2,
            output_padding=[output_padding] * 2,
            dilations=[dilations] * 2,
        )
    ]
    model = make_model(nodes, [tensor("x", [1, 1, 5, 5])], [tensor("y", ["n", "c", "h", "w"])], [w])
    feeds = {"x": np.random.default_rng(5).standard_normal((1, 1, 5, 5)).astype(np.float32)}
    _assert_refused_like_onnxruntime(model, feeds, "deconv.*smaller than the stride")


def test_resize_to_size_zero_is_refused_as_onnxruntime():
    nodes = [
        helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="resize0", mode="nearest")
    ]
    model = make_model(
        nodes,
        [tensor("x", [1, 1, 5, 5])],
        [tensor("y", ["n", "c", "h", "w"])],
        [_i64("sizes", [1, 1, 0, 5])],
        opset=18,
    )
    feeds = {"x": np.random.default_rng(6).standard_normal((1, 1, 5, 5)).astype(np.float32)}
    _assert_refused_like_onnxruntime(model, feeds, "resize0.*sizes must be positive")


def test_conv_with_a_stride_near_2_62_matches_onnxruntime():
    """A stride past the input gives one output column; im2col once sized scratch by the
    stride and corrupted the heap (fuzz seed 1011205)."""
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1],
                         strides=[1, 2**62 + 1])
    ]  # fmt: skip
    model = make_model(nodes, [tensor("x", [1, 2, 8, 8])], [tensor("y", ["n", "c", "h", "w"])], [w])
    feeds = {"x": rng.standard_normal((1, 2, 8, 8)).astype(np.float32)}
    want = _ort(model, feeds)[0]
    for backends in CHAINS:
        np.testing.assert_allclose(_run(model, feeds, backends)[0], want, rtol=1e-5, atol=1e-5)
