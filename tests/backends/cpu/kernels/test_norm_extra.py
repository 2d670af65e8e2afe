"""csrc/kernels/norm_extra.cc: InstanceNormalization, GroupNormalization (18 and 21),
RMSNormalization and LpNormalization on cpu alone (strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

TOL = {"rtol": 1e-4, "atol": 1e-5}


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 4, 3, 6), (2, 2, 1)], ids=str)
def test_instance_normalization(shape):
    rng = np.random.default_rng(131)
    x = rng.uniform(-3, 3, size=shape).astype(np.float32)
    s, b = (rng.uniform(-1, 1, size=shape[1]).astype(np.float32) for _ in range(2))
    check_op("InstanceNormalization", [x, s, b], {"epsilon": 1e-3}, opset=6, tol=TOL)


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_normalization_21(groups):
    rng = np.random.default_rng(132)
    x = rng.uniform(-3, 3, size=(2, 4, 3, 5)).astype(np.float32)
    s, b = (rng.uniform(-1, 1, size=4).astype(np.float32) for _ in range(2))
    check_op("GroupNormalization", [x, s, b], {"num_groups": groups}, opset=21, tol=TOL)


@pytest.mark.parametrize("axis", [-1, -2, 1])
def test_rms_normalization(axis):
    rng = np.random.default_rng(133)
    x = rng.uniform(-3, 3, size=(2, 3, 8)).astype(np.float32)
    scale_shape = x.shape[axis:] if axis >= 0 else x.shape[axis:]
    s = rng.uniform(-1, 1, size=scale_shape).astype(np.float32)
    check_op("RMSNormalization", [x, s], {"axis": axis}, opset=23, tol=TOL)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("axis", [0, -1])
def test_lp_normalization(p, axis):
    # ONNX Runtime: onnx.reference leaves out the absolute value of the 1-norm.
    x = np.random.default_rng(134).uniform(-3, 3, size=(3, 4, 5)).astype(np.float32)
    check_op("LpNormalization", [x], {"p": p, "axis": axis}, opset=1, tol=TOL, oracle="ort")


def test_lp_normalization_of_zeros_gives_zeros():
    x = np.random.default_rng(135).uniform(-3, 3, size=(3, 4)).astype(np.float32)
    x[1] = 0
    (y,) = check_op("LpNormalization", [x], {"p": 2, "axis": 1}, opset=1, tol=TOL)
    assert (y[1] == 0).all()


def test_declines_with_reason():
    x = np.ones((2, 3), np.float32)
    assert "p must be" in cpu_reason("LpNormalization", [x], {"p": 3}, opset=1)
