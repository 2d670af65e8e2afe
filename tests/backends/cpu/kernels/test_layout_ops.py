"""csrc/kernels/layout_ops.cc: Tile, DepthToSpace, SpaceToDepth, Size and EyeLike on cpu alone
(strict), against onnx.reference."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")


@pytest.mark.parametrize(
    "shape,repeats", [((3,), (2,)), ((2, 3), (3, 1)), ((2, 1, 3), (1, 4, 2)), ((0, 2), (2, 2))]
)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_tile(shape, repeats, dtype):
    x = np.random.default_rng(101).integers(0, 9, size=shape).astype(dtype)
    check_op("Tile", [x, np.array(repeats, np.int64)], opset=13)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("blocksize", [1, 2, 3])
def test_depth_to_space(mode, blocksize):
    x = np.random.default_rng(102).uniform(size=(2, 2 * blocksize**2, 3, 4)).astype(np.float32)
    check_op("DepthToSpace", [x], {"blocksize": blocksize, "mode": mode}, opset=13)


@pytest.mark.parametrize("blocksize", [1, 2, 3])
def test_space_to_depth(blocksize):
    x = np.random.default_rng(103).uniform(size=(2, 3, 2 * blocksize, 3 * blocksize))
    check_op("SpaceToDepth", [x.astype(np.float32)], {"blocksize": blocksize}, opset=13)


@pytest.mark.parametrize("shape", [(), (0,), (2, 3, 4)], ids=str)
def test_size(shape):
    check_op("Size", [np.ones(shape, np.float32) * 0.5], opset=13)


@pytest.mark.parametrize("k", [-1, 0, 2])
@pytest.mark.parametrize("dtype", [None, TensorProto.INT64, TensorProto.FLOAT, TensorProto.BOOL])
def test_eyelike(k, dtype):
    x = np.random.default_rng(104).uniform(size=(3, 5)).astype(np.float32)
    attrs = {"k": k} | ({"dtype": dtype} if dtype is not None else {})
    check_op("EyeLike", [x], attrs, opset=9)


def test_declines_with_reason():
    assert "4-D" in cpu_reason("DepthToSpace", [np.ones((2, 4, 3), np.float32)], {"blocksize": 2})
