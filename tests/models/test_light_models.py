"""The onnx wheel's 9 light models, with seeded random weights, end to end against ONNX Runtime.

Shipped weights are all 0.02 (uniform Softmax output whatever the input), so every model here is
`randomized_light_model` and the pre-Softmax logits are compared as well as the outputs.
"""

from __future__ import annotations

import functools

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from xinrt import InferenceSession, SessionOptions
from xinrt.testing import (
    LIGHT_MODELS,
    model_input_feeds,
    randomized_light_model,
    with_logits_output,
)

RTOL, ATOL = 1e-3, 1e-4


@functools.cache
def _case(name: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[np.ndarray]]:
    model = with_logits_output(randomized_light_model(name, seed=0))
    feeds = model_input_feeds(model, seed=1)
    expected = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    ).run(None, feeds)
    return model, feeds, expected


def _check(name: str, backends: list[str], strict: bool = False) -> InferenceSession:
    model, feeds, expected = _case(name)
    session = InferenceSession(model, SessionOptions(strict=strict), backends=backends)
    for got, want in zip(session.run(None, feeds), expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    assert np.std(expected[-1]) > 0.5, "logits must depend on the weights, not be uniform"
    return session


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_default_chain_matches_onnxruntime(name):
    _check(name, ["cpu", "ort", "reference"])


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_reference_alone_matches_onnxruntime(name):
    session = _check(name, ["reference"], strict=True)
    assert {p.backend for p in session.placement.partitions} == {"reference"}


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_native_cpu_runs_the_whole_model_in_one_partition(name):
    session = _check(name, ["cpu"], strict=True)
    assert len(session.placement.partitions) == 1


def test_heterogeneous_resnet_matches_single_backend():
    """Force every Conv to ort: many cpu/ort partitions, same answer as either alone."""
    model, feeds, expected = _case("resnet50")
    options = SessionOptions(placement="priority", placement_overrides={"Conv": "ort"})
    session = InferenceSession(model, options, backends=["cpu", "ort"])
    assert {p.backend for p in session.placement.partitions} == {"cpu", "ort"}
    assert len(session.placement.partitions) > 10
    for got, want in zip(session.run(None, feeds), expected):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
