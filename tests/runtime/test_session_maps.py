"""Converted classic models with map types (skl2onnx defaults: ZipMap on; a DictVectorizer
pipeline's dict input) through InferenceSession, against ONNX Runtime, on every chain."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
import onnx
import pytest

from xinrt import InferenceSession, SessionOptions
from xinrt.corpus.compare import compare_structured
from xinrt.errors import InvalidInputError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "backends", "cpu"))
from ml_helpers import require  # noqa: E402

ort = pytest.importorskip("onnxruntime")
OPSET = {"": 17, "ai.onnx.ml": 3}
KEYS = ("a", "b", "c", "d")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((120, 4)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.8)


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    """LR with int and with string labels (ZipMap on), and DictVectorizer + LR."""
    require("scikit-learn")
    skl2onnx = require("skl2onnx")
    from skl2onnx.common.data_types import DictionaryType, FloatTensorType, StringTensorType
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    x, y = _data()
    tensor = [("x", FloatTensorType([None, 4]))]
    dicts = [{k: float(v) for k, v in zip(KEYS, row) if v > -1.0} for row in x]
    pipe = make_pipeline(DictVectorizer(sparse=False), LogisticRegression()).fit(dicts, y)
    mapped = [("x", DictionaryType(StringTensorType([1]), FloatTensorType([1])))]
    found = {
        "ints": (LogisticRegression().fit(x, y), tensor),
        "strings": (LogisticRegression().fit(x, np.array(["lo", "mid", "hi"])[y]), tensor),
        "dict": (pipe, mapped),
    }
    return {
        name: skl2onnx.to_onnx(model, initial_types=types, target_opset=OPSET).SerializeToString()
        for name, (model, types) in found.items()
    }


def _feeds(name: str, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    if name != "dict":
        return [{"x": rng.standard_normal((n, 4)).astype(np.float32)} for n in (1, 9)]
    rows = rng.standard_normal((3, 4))
    return [{"x": {k: float(v) for k, v in zip(KEYS, row) if v > -0.5}} for row in rows]


def _assert_like_ort(got: list[Any], want: list[Any]) -> None:
    """Labels equal, probabilities within 1e-5 (compare_structured), dict values Python floats."""
    assert len(got) == len(want)
    label, probabilities = got
    np.testing.assert_array_equal(label, want[0])
    assert label.dtype == want[0].dtype
    error, reason = compare_structured(probabilities, want[1])
    assert not reason and error <= 1e-5
    assert all(type(v) is float for row in probabilities for v in row.values())


# (model, backends): every model on every chain, the cpu-only one included (string labels by
# backends/cpu/string_labels.py).
CASES = [
    (name, backends)
    for name in ("ints", "strings", "dict")
    for backends in (None, ["ort"], ["cpu"])
]


@pytest.mark.parametrize(("name", "backends"), CASES)
def test_zipmap_models_return_what_ort_returns(
    models: dict[str, bytes], name: str, backends: list[str] | None
) -> None:
    session = InferenceSession(models[name], backends=backends)
    reference = ort.InferenceSession(models[name], providers=["CPUExecutionProvider"])
    for feeds in _feeds(name, seed=len(name)):
        _assert_like_ort(session.run(None, feeds), reference.run(None, feeds))
    if backends == ["cpu"]:
        assert {n.backend for n in session.placement.nodes} == {"cpu"}


@pytest.mark.parametrize("name", ["ints", "strings", "dict"])
def test_inputs_and_outputs_show_orts_types_and_shapes(models: dict[str, bytes], name: str) -> None:
    session = InferenceSession(models[name], backends=["cpu", "ort"])
    reference = ort.InferenceSession(models[name], providers=["CPUExecutionProvider"])
    for ours, theirs in (
        (session.get_inputs(), reference.get_inputs()),
        (session.get_outputs(), reference.get_outputs()),
    ):
        assert [(a.name, a.type, a.shape) for a in ours] == [
            (a.name, a.type, a.shape) for a in theirs
        ]


def test_a_map_input_partition_on_ort_gets_its_map_type(models: dict[str, bytes]) -> None:
    """DictVectorizer alone on ORT, the rest on cpu: the ORT partition's input must be typed."""
    proto = onnx.load_from_string(models["dict"])
    vectorizer = next(n.name for n in proto.graph.node if n.op_type == "DictVectorizer")
    options = SessionOptions(placement="priority", placement_overrides={vectorizer: "ort"})
    session = InferenceSession(models["dict"], options, backends=["cpu", "ort"])
    assert [p.backend for p in session.placement.partitions] == ["ort", "cpu"]
    reference = ort.InferenceSession(models["dict"], providers=["CPUExecutionProvider"])
    for feeds in _feeds("dict", seed=11):
        _assert_like_ort(session.run(None, feeds), reference.run(None, feeds))


@pytest.mark.parametrize("backends", [None, ["ort"], ["cpu"]])
@pytest.mark.parametrize(
    ("feed", "message"),
    [
        (np.zeros((1, 4), np.float32), r"input 'x': expected a dict \(map\(string,tensor\(float"),
        ({1: 0.5, 2: 1.0}, r"input 'x': key 1 \(int\) does not fit map\(string"),
        ({"a": "high"}, r"input 'x': the value 'high'"),
    ],
)
def test_bad_map_feeds_are_invalid_input_errors_on_every_chain(
    models: dict[str, bytes], backends: list[str] | None, feed: Any, message: str
) -> None:
    session = InferenceSession(models["dict"], backends=backends)
    with pytest.raises(InvalidInputError, match=message):
        session.run(None, {"x": feed})
    good = _feeds("dict", seed=2)[0]
    assert len(session.run(None, good)[1]) == 1  # the session stays usable
