"""Native pools (kernels/pool.cc) match onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import (  # noqa: F401, F811
    assert_matches_onnxruntime,
    assert_matches_reference,
    rand,
)
from tests.backends.cpu.simd_paths import FLOAT_SIMD_PATHS, use_simd_path

_native = pytest.importorskip("xinrt._native")


POOL_CASES = [
    ((1, 3, 7, 7), {"kernel_shape": [3, 3]}),
    ((2, 3, 9, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 2, 112, 112), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 1, 1]}),
    ((1, 4, 13, 11), {"kernel_shape": [2, 3], "strides": [2, 1], "pads": [1, 0, 0, 2]}),
    ((1, 3, 12, 11), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 3, 12, 11), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "VALID"}),
    ((2, 3, 33), {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    ((1, 3, 7, 7), {"kernel_shape": [7, 7]}),
    # Rows of 16+ outputs at strides 1, 2 and 3 (the AVX-512 loops run 16 outputs at a time
    # for strides 1 and 2), with a tail after the last 16.
    ((1, 2, 9, 45), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    ((1, 2, 9, 75), {"kernel_shape": [3, 3], "strides": [3, 3], "pads": [1, 1, 1, 1]}),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("opset", [9, 11])
def test_max_pool_matches_reference(case, opset):
    shape, attrs = case
    x = rand(np.random.default_rng(13), shape)
    assert_matches_reference("MaxPool", [x], attrs, opset=opset)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("include_pad", [0, 1])
def test_average_pool_matches_reference(case, include_pad):
    shape, attrs = case
    x = rand(np.random.default_rng(14), shape)
    assert_matches_reference(
        "AveragePool", [x], {**attrs, "count_include_pad": include_pad}, opset=11
    )


@pytest.mark.parametrize(
    "shape", [(1, 3, 7, 7), (2, 5, 12, 9), (1, 4, 3, 9, 11), (1, 2, 6, 40)], ids=str
)
@pytest.mark.parametrize("ceil_mode", [0, 1])
@pytest.mark.parametrize("strides", [[2, 2], [1, 1]], ids=str)
def test_max_pool_ceil_mode_and_dilations_match_reference(shape, ceil_mode, strides):
    if len(shape) == 5:
        assert "rank" in _native.check_node(
            "MaxPool", "", 12, ["float32"], [list(shape)], {"kernel_shape": [2, 2, 2]}, 1
        )
        return
    x = rand(np.random.default_rng(15), shape)
    attrs = {
        "kernel_shape": [3, 2],
        "strides": strides,
        "dilations": [1, 2],
        "ceil_mode": ceil_mode,
    }
    assert_matches_reference("MaxPool", [x], attrs, opset=12)


@pytest.mark.parametrize("shape", [(1, 3, 9, 8), (2, 5, 12, 7)], ids=str)
def test_average_pool_ceil_mode_matches_reference(shape):
    x = rand(np.random.default_rng(16), shape)
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "count_include_pad": 0}
    assert_matches_reference("AveragePool", [x], attrs, opset=11)


def test_pools_decline_what_they_do_not_compute():
    reason = _native.check_node("MaxPool", "", 12, ["float32"], [None], {"kernel_shape": [2, 2]}, 2)
    assert "Indices" in reason
    reason = _native.check_node(
        "AveragePool", "", 19, ["float32"], [None], {"kernel_shape": [2, 2], "dilations": [2, 2]}, 1
    )
    assert "dilations" in reason


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize(
    "shape", [(1, 3, 7, 7), (2, 33, 1, 1), (2, 3, 5), (1, 2, 3, 4, 5)], ids=str
)
def test_global_pools_match_reference(op, shape):
    x = rand(np.random.default_rng(17), shape)
    if op == "GlobalMaxPool" and len(shape) != 4:
        # onnx.reference's GlobalMaxPool assumes 4-D; the spec keeps every spatial dim as 1.
        assert_matches_onnxruntime(op, [x], opset=11)
    else:
        assert_matches_reference(op, [x], opset=11)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pools_give_the_same_bits_on_every_simd_path_nans_included(op, monkeypatch):
    """Each SIMD path's row and tap loops (strides 1 and 2, rows of 16+ and tails) match
    onnx.reference, and give exactly the portable path's output with NaNs in the input (a NaN
    never wins a MaxPool comparison on any path; onnx.reference and ORT each treat NaN
    differently again, depending on its place in the window)."""
    from tests.backends.cpu.native_helpers import run_native

    x = rand(np.random.default_rng(17), (1, 3, 12, 67))
    with_nans = x.copy()
    with_nans[0, 0, 3, 5] = with_nans[0, 1, 7, 40] = with_nans[0, 2, 0, 66] = np.nan
    for attrs in (
        {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]},
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    ):
        outputs = {}
        for path in FLOAT_SIMD_PATHS:
            use_simd_path(path, monkeypatch)
            assert_matches_reference(op, [x], attrs, opset=11)
            outputs[path] = run_native(op, [with_nans], attrs, 11)[0]
        for path, y in outputs.items():
            np.testing.assert_array_equal(y, outputs["baseline"], err_msg=f"{op} {attrs} on {path}")
