"""Placement: who runs what, why others declined, overrides, strict mode and min_coverage.

Tests that assert which backend runs a node use placement="priority" (first claimant wins);
"fastest" is tested in test_fastest.py and test_cost.py."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from xinrt import InferenceSession, PlacementError, SessionOptions


def _priority(**fields) -> SessionOptions:
    return SessionOptions(placement="priority", **fields)


def _feeds():
    x = np.random.default_rng(11).standard_normal((2, 3, 3)).astype(np.float32)
    return {"x": x}


def test_heterogeneous_session_matches_single_backend_and_reports_both(det_model):
    hetero = InferenceSession(det_model, _priority(), backends=["cpu", "ort"])
    alone = InferenceSession(det_model, backends=["ort"])
    expected = ort.InferenceSession(det_model.SerializeToString()).run(None, _feeds())[0]
    np.testing.assert_allclose(hetero.run(None, _feeds())[0], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(alone.run(None, _feeds())[0], expected, rtol=1e-4, atol=1e-5)
    report = hetero.placement
    assert {n.name: n.backend for n in report.nodes} == {
        "relu": "cpu",
        "square": "cpu",
        "det": "ort",
        "neg": "cpu",
    }
    assert [p.backend for p in report.partitions] == ["cpu", "ort", "cpu"]
    assert report.boundary_tensors == 2  # sq -> det, d -> neg
    det = next(n for n in report.nodes if n.name == "det")
    assert "Det" in det.declined["cpu"]


def test_report_renders_and_serialises(det_model):
    report = InferenceSession(det_model, _priority(), backends=["cpu", "ort"]).placement
    text = str(report)
    assert "cpu" in text and "ort" in text and "declined" in text and "Det x1" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["boundary_tensors"] == 2
    assert abs(sum(data["coverage"].values()) - 1.0) < 1e-9
    assert [p["backend"] for p in data["partitions"]] == ["cpu", "ort", "cpu"]


@pytest.mark.parametrize("key", ["neg", "Neg", "n.g"])
def test_override_pins_by_name_op_type_or_regex(det_model, key):
    options = SessionOptions(placement_overrides={key: "reference"})
    session = InferenceSession(det_model, options, backends=["cpu", "ort"])
    neg = next(n for n in session.placement.nodes if n.name == "neg")
    assert neg.backend == "reference" and neg.pinned
    expected = ort.InferenceSession(det_model.SerializeToString()).run(None, _feeds())[0]
    np.testing.assert_allclose(session.run(None, _feeds())[0], expected, rtol=1e-4, atol=1e-5)


def test_override_to_a_backend_that_declines_the_node_fails_clearly(det_model):
    options = SessionOptions(placement_overrides={"det": "cpu"})
    with pytest.raises(PlacementError, match="det \\(Det\\) is pinned to cpu, which declines it"):
        InferenceSession(det_model, options, backends=["cpu", "ort"])


def test_strict_lists_every_node_the_first_backend_declines(det_model):
    with pytest.raises(PlacementError, match="strict mode.*\n.*det \\(Det\\) is declined by cpu"):
        InferenceSession(det_model, SessionOptions(strict=True), backends=["cpu", "ort"])


def test_strict_passes_when_the_first_backend_takes_everything(mlp_model):
    session = InferenceSession(mlp_model, SessionOptions(strict=True), backends=["cpu", "ort"])
    assert len(session.placement.partitions) == 1


def test_node_no_backend_supports_is_a_placement_error(det_model):
    with pytest.raises(PlacementError, match="det \\(Det.*no backend supports it"):
        InferenceSession(det_model, backends=["cpu"])


def test_min_coverage_fails_when_a_backend_gets_too_little(det_model):
    options = _priority(min_coverage={"ort": 0.9})
    with pytest.raises(PlacementError, match="'ort' runs .* below min_coverage 90.0%"):
        InferenceSession(det_model, options, backends=["cpu", "ort"])
    options = _priority(min_coverage={"cpu": 0.1})
    assert InferenceSession(det_model, options, backends=["cpu", "ort"])


def test_unknown_domain_is_declined_by_everyone_with_reasons():
    from onnx import helper

    from tests.helpers import make_model, tensor

    node = helper.make_node("Frobnicate", ["x"], ["y"], name="frob", domain="com.example")
    model = make_model([node], [tensor("x", [2])], [tensor("y", [2])])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(PlacementError, match="frob \\(Frobnicate, domain 'com.example'\\)"):
        InferenceSession(model, backends=["cpu", "ort", "reference"])
