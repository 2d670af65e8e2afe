"""Native Pad and Resize (kernels/pad_resize.cc) match onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import assert_matches_reference, rand  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")


PAD_CASES = [
    ([0, 1, 2, 3, 0, 2, 1, 0], None),
    ([1, 0, 0, 0, 1, 0, 0, 7], None),
    ([2, 5, 0, 1], [-1, 2]),  # axes input (opset 18)
]


COORDINATE_MODES = [
    "half_pixel",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "half_pixel_symmetric",
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("pads,axes", PAD_CASES, ids=str)
def test_pad_input_form_matches_reference(mode, pads, axes):
    x = rand(np.random.default_rng(1), (2, 3, 7, 9))
    inputs = [
        x,
        np.array(pads, np.int64),
        np.array(1.5, np.float32) if mode == "constant" else None,
    ]
    if axes is not None:
        inputs.append(np.array(axes, np.int64))
    assert_matches_reference("Pad", inputs, {"mode": mode}, opset=18)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad_attribute_form_and_integer_data_match_reference(mode):
    x = rand(np.random.default_rng(2), (3, 33))
    assert_matches_reference(
        "Pad", [x], {"mode": mode, "pads": [1, 2, 0, 5], "value": -2.0}, opset=2
    )
    ints = np.arange(21, dtype=np.int64).reshape(3, 7)
    assert_matches_reference(
        "Pad", [ints, np.array([0, 3, 1, 2], np.int64)], {"mode": mode}, opset=13
    )


def test_pad_wrap_is_declined():
    assert "wrap" in _native.check_node(
        "Pad", "", 19, ["float32", "int64"], [None, None], {"mode": "wrap"}, 1
    )


@pytest.mark.parametrize("ct", COORDINATE_MODES[:4])
@pytest.mark.parametrize(
    "nearest_mode", ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
)
@pytest.mark.parametrize("scales", [(1, 1, 2, 3), (1, 1, 0.5, 0.7), (1, 1, 1.7, 1)], ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_resize_nearest_modes_match_reference(ct, nearest_mode, scales):
    x = rand(np.random.default_rng(3), (1, 3, 7, 9))
    attrs = {"mode": "nearest", "coordinate_transformation_mode": ct, "nearest_mode": nearest_mode}
    assert_matches_reference("Resize", [x, None, np.array(scales, np.float32)], attrs, opset=19)


@pytest.mark.parametrize("ct", COORDINATE_MODES)
@pytest.mark.parametrize("sizes", [(2, 3, 14, 5), (2, 3, 1, 33), (2, 3, 7, 9)], ids=str)
@pytest.mark.usefixtures("cpu_path")
def test_resize_linear_sizes_match_reference(ct, sizes):
    x = rand(np.random.default_rng(4), (2, 3, 7, 9))
    attrs = {"mode": "linear", "coordinate_transformation_mode": ct}
    inputs = [x, None, None, np.array(sizes, np.int64)]
    assert_matches_reference("Resize", inputs, attrs, opset=19, tol={"rtol": 1e-5, "atol": 1e-6})


def test_resize_opset11_scales_and_uint8_nearest_match_reference():
    x = rand(np.random.default_rng(5), (1, 2, 5, 5))
    roi = np.array([], np.float32)
    scales = np.array([1, 1, 2.5, 0.6], np.float32)
    assert_matches_reference("Resize", [x, roi, scales], {"mode": "linear"}, opset=11)
    u8 = np.arange(50, dtype=np.uint8).reshape(1, 2, 5, 5)
    assert_matches_reference("Resize", [u8, roi, scales], {"mode": "nearest"}, opset=13)


@pytest.mark.parametrize(
    "attrs",
    [
        {"mode": "cubic", "antialias": 1},
        {"mode": "linear", "antialias": 1},
        {"coordinate_transformation_mode": "tf_crop_and_resize"},
        {"axes": [2, 3]},
        {"mode": "nearest", "coordinate_transformation_mode": "half_pixel_symmetric"},
        {"coordinate_transformation_mode": "tf_half_pixel_for_nearest"},
    ],
    ids=str,
)
def test_resize_unsupported_attributes_are_declined(attrs):
    assert (
        _native.check_node("Resize", "", 19, ["float32", "", "float32"], [None] * 3, attrs, 1) != ""
    )
