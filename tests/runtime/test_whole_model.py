"""ORT alone takes the model as given: no xinrt passes, one ORT session, the file handed over."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession, PlacementError
from xinrt.backend import SupportLevel, get_backend
from xinrt.model import load_model
from xinrt.whole_model import given_model, sole_original_model_backend


def _conv_bn_model() -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "scale"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "bias"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "mean"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "var"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["b"], name="bn"
        ),
        helper.make_node("Relu", ["b"], ["y"], name="relu"),
    ]
    return make_model(nodes, [tensor("x", [1, 3, 8, 8])], [tensor("y", [1, 4, 8, 8])], inits)


def test_only_a_sole_backend_preferring_the_original_model_takes_it_as_given():
    assert sole_original_model_backend(["ort"], {}) is get_backend("ort")
    assert sole_original_model_backend(["cpu"], {}) is None  # compiles our graph
    assert sole_original_model_backend(["ort", "cpu"], {}) is None
    assert sole_original_model_backend(["ort"], {"Relu": "cpu"}) is None
    assert given_model(b"abc") == b"abc"
    assert given_model(bytearray(b"abc")) is None  # may change under us: the parsed copy goes
    assert given_model(onnx.ModelProto()) is None


def test_ort_alone_runs_the_file_as_given_and_matches_raw_ort_exactly(tmp_path, monkeypatch):
    path = tmp_path / "conv_bn.onnx"
    onnx.save(_conv_bn_model(), str(path))
    built: list[object] = []
    real = ort.InferenceSession

    def watched(model: object, *args: object, **kwargs: object) -> object:
        built.append(model)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", watched)
    session = InferenceSession(str(path), backends=["ort"])
    monkeypatch.undo()
    assert built == [str(path)]  # one ORT session, on the file itself: no capability session
    report = session.placement
    placed = sorted((n.name, n.backend) for n in report.nodes)
    assert placed == [("bn", "ort"), ("conv", "ort"), ("relu", "ort")]  # no BatchNorm folding
    assert report.partitions[0].details["capability"] == "whole-model compile"
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], want[0])


def test_ort_alone_answers_maybe_and_names_the_nodes_ort_refuses():
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="ok"),
        helper.make_node("NoSuchOp", ["r"], ["y"], name="bad", domain="xinrt.test"),
    ]
    model = make_model(nodes, [tensor("x", [2, 3])], [tensor("y", [2, 3])])
    model.opset_import.append(helper.make_opsetid("xinrt.test", 1))
    graph_answers = get_backend("ort").capability_of_whole_model(load_model(model).ir_model.graph)
    assert {a.level for a in graph_answers.values()} == {SupportLevel.MAYBE}
    with pytest.raises(PlacementError, match="bad"):
        InferenceSession(model.SerializeToString(), backends=["ort"])
