"""The corpus' classic-ML section: enough entries, and a built one runs wholly on cpu like ORT."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from xinrt.corpus.classic_models import classic_entries
from xinrt.corpus.feeds import make_feeds

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "backends", "cpu"))
from ml_helpers import assert_matches, require  # noqa: E402


def test_classic_section_has_25_or_more_named_models_with_their_needs() -> None:
    found = classic_entries()
    assert len(found) >= 25
    assert all(e.name.startswith("classic_") and e.group == "classic" for e in found)
    assert all("sklearn" in e.needs for e in found)
    assert sum(e.name.endswith("_zipmap") for e in found) >= 2


@pytest.mark.parametrize(
    "name",
    [
        "classic_random_forest_binary",
        "classic_scaler_logreg",
        "classic_svc_linear_binary",
        "classic_hist_gradient_boosting_classifier",
    ],
)
def test_built_classic_model_runs_on_cpu_like_onnxruntime(name: str, tmp_path: Path) -> None:
    require("scikit-learn")
    require("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    from xinrt import InferenceSession

    entry = next(e for e in classic_entries() if e.name == name)
    path = tmp_path / f"{name}.onnx"
    entry.builder(path)
    feeds = make_feeds(path, entry.feeds)
    assert feeds["x"].shape == (16, 8) and np.isfinite(feeds["x"]).all()
    session = InferenceSession(str(path), backends=["cpu"])
    assert {n.backend for n in session.placement.nodes} == {"cpu"}
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    assert_matches(session.run(None, feeds), want)
