"""One-node models for probes: what they hold, and a signature that ignores only names."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt.model import load_model
from xinrt.one_node import one_node_model


def _conv(name: str, x: str, seed: int, shape=(1, 2, 5, 5), pads=1):
    w = np.random.default_rng(seed).standard_normal((4, 2, 3, 3)).astype(np.float32)
    node = helper.make_node("Conv", [x, "w"], ["y"], name=name, pads=[pads] * 4)
    model = make_model(
        [node], [tensor(x, list(shape))], [tensor("y", None)], [numpy_helper.from_array(w, "w")]
    )
    graph = load_model(model).ir_model.graph
    return list(graph)[0], graph


def _embed_all(value, name) -> onnx.TensorProto:
    return numpy_helper.from_array(value.const_value.numpy(), name)


def _key(*args, constant=_embed_all, **kwargs) -> str:
    node, graph = _conv(*args, **kwargs)
    built = one_node_model(node, graph, ir_version=8, constant=constant)
    assert not isinstance(built, str)
    return built.key


def test_the_model_holds_the_node_its_typed_inputs_and_the_constants_the_policy_keeps():
    node, graph = _conv("c", "x", 0)
    built = one_node_model(node, graph, ir_version=8, constant=lambda v, n: None)
    assert not isinstance(built, str)
    onnx.checker.check_model(built.model)
    assert [i.name for i in built.model.graph.input] == ["x", "w"]  # the weight as an input
    assert not built.model.graph.initializer and built.model.ir_version == 8
    kept = one_node_model(node, graph, ir_version=8, constant=_embed_all)
    assert not isinstance(kept, str)
    assert [t.name for t in kept.model.graph.initializer] == ["w"]


def test_the_signature_ignores_names_but_not_shapes_attributes_or_kept_constants():
    assert _key("a", "x", 0) == _key("b", "input", 0)
    assert _key("a", "x", 0) != _key("a", "x", 0, shape=(1, 2, 6, 6))
    assert _key("a", "x", 0) != _key("a", "x", 0, pads=0)
    assert _key("a", "x", 0) != _key("a", "x", 1)  # the kept weight's values differ
    assert _key("a", "x", 0, constant=lambda v, n: None) == _key(
        "a", "x", 1, constant=lambda v, n: None
    )


def test_an_input_of_unknown_type_is_a_reason_not_a_model():
    node = helper.make_node("Relu", ["x"], ["y"], name="r")
    model = make_model([node], [tensor("x", [2])], [tensor("y", [2])])
    graph = load_model(model).ir_model.graph
    relu = list(graph)[0]
    relu.inputs[0].type = None
    got = one_node_model(relu, graph, ir_version=8, constant=lambda v, n: None)
    assert isinstance(got, str) and "unknown" in got
