"""Shared pieces of the ai.onnx.ml tests: installing the converters, strict-cpu vs ORT runs."""

from __future__ import annotations

import importlib
import subprocess
import sys
from types import ModuleType
from typing import Any

import numpy as np
import pytest

# pip name -> module name; versions as in pyproject's `classic` extra.
CLASSIC = {"scikit-learn": "sklearn", "skl2onnx": "skl2onnx"}
_UNREACHABLE = ("Could not find a version", "No matching distribution", "connection", "Network")


def require(pip_name: str) -> ModuleType:
    """Imports a converter package, installing it into this venv when missing.

    Skips (with the reason) only when the package index cannot be reached.
    """
    module = CLASSIC.get(pip_name, pip_name.replace("-", "_"))
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", pip_name],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        if any(s.lower() in done.stderr.lower() for s in _UNREACHABLE):
            pytest.skip(f"{pip_name} is not installed and the package index is unreachable")
        raise RuntimeError(f"pip install {pip_name} failed: {done.stderr[-2000:]}")
    importlib.invalidate_caches()
    return importlib.import_module(module)


def to_onnx(estimator: Any, x: np.ndarray) -> bytes:
    """skl2onnx conversion with ZipMap off (tensor outputs), float input [None, features]."""
    skl2onnx = require("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    options = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None
    onx = skl2onnx.to_onnx(
        estimator,
        initial_types=[("x", FloatTensorType([None, x.shape[1]]))],
        options=options,
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return bytes(onx.SerializeToString())


def run_both(model: bytes, x: np.ndarray, threads: int = 1) -> tuple[list[Any], list[Any]]:
    """(xinrt on `cpu` only, every node placed there; raw onnxruntime) outputs for feed x."""
    from xinrt import InferenceSession, SessionOptions

    ort = pytest.importorskip("onnxruntime")
    session = InferenceSession(
        model, SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
    )
    assert {n.backend for n in session.placement.nodes} == {"cpu"}
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    want = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )
    return session.run(None, {"x": x}), want


def assert_matches(got: list[Any], want: list[Any]) -> None:
    """Integer outputs (labels) equal; float outputs within 1e-5."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        if np.issubdtype(w.dtype, np.integer):
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
