"""Feeds: overridable initializers (IR >= 4 initializers listed as inputs) are fed as in ORT,
and IR < 4 ones stay constants; no pass folds an overridable initializer away."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession, InvalidInputError, SessionOptions

F = TensorProto.FLOAT


def _rand(*shape: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _ort(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # ORT warns about initializers among the inputs
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _add_model(ir_version: int) -> onnx.ModelProto:
    w = numpy_helper.from_array(_rand(3, 4, seed=1), "w")
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        [tensor("x", [3, 4]), tensor("w", [3, 4])],
        [tensor("y", [3, 4])],
        [w],
        opset=13 if ir_version >= 4 else 8,
    )
    model.ir_version = ir_version
    return model


def test_overridable_initializer_is_listed_fed_and_defaulted_as_in_ort():
    model = _add_model(7)
    session, want = InferenceSession(model), _ort(model)
    listed = [(a.name, a.shape, a.type) for a in session.get_overridable_initializers()]
    assert listed == [(a.name, a.shape, a.type) for a in want.get_overridable_initializers()]
    assert listed == [("w", [3, 4], "tensor(float)")]
    assert [a.name for a in session.get_inputs()] == [a.name for a in want.get_inputs()] == ["x"]
    x, w = _rand(3, 4, seed=2), _rand(3, 4, seed=3)
    for feeds in ({"x": x, "w": w}, {"x": x}, {"x": x, "w": 2 * w}):
        np.testing.assert_allclose(session.run(None, feeds)[0], want.run(None, feeds)[0])
    np.testing.assert_allclose(session.run(None, {"x": x, "w": w})[0], x + w)


def test_overriding_checks_the_declared_type_and_shape():
    session = InferenceSession(_add_model(7))
    with pytest.raises(InvalidInputError, match="input 'w': expected dtype"):
        session.run(None, {"x": _rand(3, 4, seed=0), "w": np.ones((3, 4), np.int64)})
    with pytest.raises(InvalidInputError, match="input 'w': dimension 1 must be 4"):
        session.run(None, {"x": _rand(3, 4, seed=0), "w": np.ones((3, 5), np.float32)})


def test_ir3_initializers_among_the_inputs_are_constants_as_in_ort():
    model = _add_model(3)
    session, want = InferenceSession(model), _ort(model)
    assert session.get_overridable_initializers() == [] == want.get_overridable_initializers()
    assert [a.name for a in session.get_inputs()] == [a.name for a in want.get_inputs()] == ["x"]
    feeds = {"x": _rand(3, 4, seed=2), "w": _rand(3, 4, seed=3)}
    with pytest.raises(Exception, match="Invalid input name: w"):
        want.run(None, feeds)
    with pytest.raises(InvalidInputError, match="'w' is an initializer of this IR < 4 model"):
        session.run(None, feeds)
    np.testing.assert_allclose(
        session.run(None, {"x": feeds["x"]})[0], want.run(None, {"x": feeds["x"]})[0]
    )


def test_constant_folding_leaves_an_overridable_initializer_alone():
    """Add(w, one) would fold to a constant if w were a constant."""
    w = numpy_helper.from_array(_rand(4, seed=1), "w")
    one = numpy_helper.from_array(np.ones(4, np.float32), "one")
    model = make_model(
        [
            helper.make_node("Add", ["w", "one"], ["w1"]),
            helper.make_node("Mul", ["x", "w1"], ["y"]),
        ],
        [tensor("x", [2, 4]), tensor("w", [4])],
        [tensor("y", [2, 4])],
        [w, one],
    )
    session, want = InferenceSession(model), _ort(model)
    assert [n.op_type for n in session._ir.graph] == ["Add", "Mul"]
    feeds = {"x": _rand(2, 4, seed=2), "w": _rand(4, seed=3)}
    np.testing.assert_allclose(session.run(None, feeds)[0], want.run(None, feeds)[0], rtol=1e-6)


def test_batchnorm_folding_leaves_an_overridable_scale_alone():
    rng = np.random.default_rng(4)
    weights = {
        "W": rng.standard_normal((2, 3, 3, 3)).astype(np.float32),
        "scale": rng.standard_normal(2).astype(np.float32),
        "bias": rng.standard_normal(2).astype(np.float32),
        "mean": rng.standard_normal(2).astype(np.float32),
        "var": rng.uniform(0.5, 2, 2).astype(np.float32),
    }
    model = make_model(
        [
            helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["y"]),
        ],
        [tensor("x", [1, 3, 5, 5]), tensor("scale", [2])],
        [tensor("y", [1, 2, 5, 5])],
        [numpy_helper.from_array(a, n) for n, a in weights.items()],
    )
    options = SessionOptions()
    options.graph_optimization_level = 99
    session, want = InferenceSession(model, options), _ort(model)
    assert "BatchNormalization" in [n.op_type for n in session._ir.graph]
    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    for feeds in ({"x": x}, {"x": x, "scale": np.array([3.0, -1.0], np.float32)}):
        np.testing.assert_allclose(
            session.run(None, feeds)[0], want.run(None, feeds)[0], rtol=1e-4, atol=1e-5
        )


def test_fast_feed_check_passes_good_feeds_and_leaves_bad_ones_to_the_full_check():
    """FastFeeds (the session's per-run check) accepts exactly what validate_feeds accepts and
    raises the same errors for everything else."""
    import onnx_ir as ir

    from xinrt.feeds import FastFeeds, validate_feeds

    model = make_model(
        [helper.make_node("Add", ["x", "z"], ["y"])],
        [tensor("x", ["batch", 4]), tensor("z", [1, 4])],
        [tensor("y", ["batch", 4])],
    )
    inputs = list(ir.from_proto(model).graph.inputs)
    fast = FastFeeds("m", inputs)
    good = {"x": _rand(5, 4, seed=4), "z": _rand(1, 4, seed=5)}
    checked = fast(good)
    assert list(checked) == ["x", "z"] and all(checked[k] is good[k] for k in good)
    bad_feeds = [
        {"x": good["x"].astype(np.float64), "z": good["z"]},  # dtype
        {"x": good["x"], "z": _rand(2, 4, seed=6)},  # static dim
        {"x": good["x"][None], "z": good["z"]},  # rank
        {"x": good["x"]},  # missing
        {"x": good["x"], "w": good["z"]},  # unknown name
    ]
    for bad in bad_feeds:
        with pytest.raises(InvalidInputError) as slow:
            validate_feeds("m", inputs, bad)
        with pytest.raises(InvalidInputError, match=str(slow.value).split(":")[0]):
            fast(bad)
    from types import MappingProxyType

    read_only = MappingProxyType(good)  # not a dict: the full check, same result
    assert all(fast(read_only)[k] is good[k] for k in good)
