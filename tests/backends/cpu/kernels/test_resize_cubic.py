"""csrc/kernels/resize_cubic.cc: Resize mode=cubic (scales and sizes, coordinate modes,
cubic_coeff_a, exclude_outside) on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op

pytest.importorskip("xinrt._native")

TOL = {"rtol": 1e-5, "atol": 1e-5}


@pytest.mark.parametrize(
    "ct",
    ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"],
)
@pytest.mark.parametrize("scales", [(1, 1, 2, 2), (1, 1, 0.6, 1.7), (1, 1, 3, 0.5)], ids=str)
def test_cubic_scales(ct, scales):
    x = np.random.default_rng(91).uniform(-1, 1, size=(1, 2, 5, 6)).astype(np.float32)
    attrs = {"mode": "cubic", "coordinate_transformation_mode": ct}
    check_op("Resize", [x, None, np.array(scales, np.float32)], attrs, opset=19, tol=TOL)


@pytest.mark.parametrize("exclude_outside", [0, 1])
@pytest.mark.parametrize("a", [-0.75, -0.5])
def test_cubic_sizes_with_coefficient_and_exclude_outside(exclude_outside, a):
    x = np.random.default_rng(92).uniform(-1, 1, size=(2, 3, 4, 7)).astype(np.float32)
    sizes = np.array([2, 3, 9, 5], np.int64)
    attrs = {"mode": "cubic", "cubic_coeff_a": a, "exclude_outside": exclude_outside}
    check_op("Resize", [x, None, None, sizes], attrs, opset=13, tol=TOL, constant=(3,))
