"""csrc/kernels/detection.cc: NonMaxSuppression and RoiAlign on cpu alone (strict), against
onnx.reference (which follows ONNX Runtime's algorithms)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")


def _boxes(rng, batches, n, center):
    xy = rng.uniform(0, 10, size=(batches, n, 2))
    wh = rng.uniform(0.5, 4, size=(batches, n, 2))
    if center:
        return np.concatenate([xy, wh], axis=-1).astype(np.float32)
    corners = np.concatenate([xy, xy + wh], axis=-1)[..., [1, 0, 3, 2]]  # y1, x1, y2, x2
    flip = rng.random((batches, n)) < 0.3  # corners in either order
    corners[flip] = corners[flip][:, [2, 3, 0, 1]]
    return corners.astype(np.float32)


@pytest.mark.parametrize("center", [0, 1])
@pytest.mark.parametrize("max_out,iou,score", [(3, 0.5, None), (10, 0.3, 0.4), (0, 0.5, 0.1)])
def test_non_max_suppression(center, max_out, iou, score):
    rng = np.random.default_rng(141)
    boxes = _boxes(rng, 2, 12, center)
    scores = rng.uniform(size=(2, 3, 12)).astype(np.float32)
    scores[0, 0, 5] = scores[0, 0, 7]  # a tie: the lower index goes first
    inputs = [boxes, scores, np.array([max_out], np.int64), np.array([iou], np.float32)]
    if score is not None:
        inputs.append(np.array([score], np.float32))
    check_op("NonMaxSuppression", inputs, {"center_point_box": center}, opset=11)


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("ct", ["half_pixel", "output_half_pixel"])
@pytest.mark.parametrize("ratio", [0, 2])
def test_roi_align(mode, ct, ratio):
    rng = np.random.default_rng(142)
    x = rng.uniform(-1, 1, size=(2, 3, 10, 12)).astype(np.float32)
    xy = rng.uniform(-2, 18, size=(5, 2))
    rois = np.concatenate([xy, xy + rng.uniform(1, 9, size=(5, 2))], axis=1).astype(np.float32)
    idx = np.array([0, 1, 1, 0, 1], np.int64)
    attrs = {
        "mode": mode,
        "coordinate_transformation_mode": ct,
        "output_height": 3,
        "output_width": 2,
        "sampling_ratio": ratio,
        "spatial_scale": 0.5,
    }
    check_op("RoiAlign", [x, rois, idx], attrs, opset=16, tol={"rtol": 1e-5, "atol": 1e-5})


def test_roi_align_opset10_is_output_half_pixel():
    # ONNX Runtime: onnx.reference applies opset 16's half_pixel default to opset 10 too.
    rng = np.random.default_rng(143)
    x = rng.uniform(-1, 1, size=(1, 2, 6, 6)).astype(np.float32)
    rois = np.array([[0.5, 1.0, 4.0, 5.5], [2.0, 0.0, 5.0, 3.0]], np.float32)
    attrs = {"output_height": 2, "output_width": 2}
    check_op(
        "RoiAlign",
        [x, rois, np.zeros(2, np.int64)],
        attrs,
        opset=10,
        tol={"rtol": 1e-5, "atol": 1e-5},
        oracle="ort",
    )


def test_declines_with_reason():
    x = np.ones((1, 1, 2, 2), np.float32)
    rois = np.ones((1, 4), np.float32)
    reason = cpu_reason("RoiAlign", [x, rois, np.zeros(1, np.int64)], {"mode": "min"}, opset=16)
    assert "mode" in reason
