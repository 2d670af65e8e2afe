"""Identity/Dropout removal keeps every graph's outputs its own, subgraphs included (issue 13:
"Value ... is already an output of a different graph" on If branches carrying decoders)."""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession
from xinrt.passes import remove_inference_noops

F = TensorProto.FLOAT


def _lstm_branch(prefix: str, source: str) -> onnx.GraphProto:
    """A branch holding a small LSTM decoder: its output leaves through Identity nodes, and a
    second output is an Identity of the outer-scope value `source`."""
    rng = np.random.default_rng(3)
    weights = [
        helper.make_tensor(f"{prefix}W", F, [1, 16, 3], rng.standard_normal(48).tolist()),
        helper.make_tensor(f"{prefix}R", F, [1, 16, 4], rng.standard_normal(64).tolist()),
    ]
    nodes = [
        helper.make_node("Unsqueeze", [source, f"{prefix}axes"], [f"{prefix}seq"]),
        helper.make_node(
            "LSTM",
            [f"{prefix}seq", f"{prefix}W", f"{prefix}R"],
            [f"{prefix}Y", f"{prefix}h"],
            hidden_size=4,
        ),
        helper.make_node("Identity", [f"{prefix}h"], [f"{prefix}/decoder/rnn/Identity_3_output_0"]),
        helper.make_node(
            "Identity", [f"{prefix}/decoder/rnn/Identity_3_output_0"], [f"{prefix}out"]
        ),
        helper.make_node("Identity", [source], [f"{prefix}passthrough"]),
    ]
    axes = helper.make_tensor(f"{prefix}axes", TensorProto.INT64, [1], [1])
    return helper.make_graph(
        nodes,
        prefix,
        [],
        [tensor(f"{prefix}out", [1, 1, 4]), tensor(f"{prefix}passthrough", [2, 3])],
        initializer=[*weights, axes],
    )


def _if_model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node(
            "If",
            ["c"],
            ["y", "z"],
            then_branch=_lstm_branch("then_", "a"),
            else_branch=_lstm_branch("If_0_else_branch__Inline_0_", "a"),
        ),
    ]
    return make_model(
        nodes,
        [tensor("x", [2, 3]), tensor("c", [], TensorProto.BOOL)],
        [tensor("y", [1, 1, 4]), tensor("z", [2, 3])],
    )


@pytest.mark.parametrize("branch", [True, False])
def test_if_branches_with_identities_and_lstm_load_and_match_ort(branch):
    model = _if_model()
    feeds = {
        "x": np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32),
        "c": np.array(branch),
    }
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    session = InferenceSession(model)
    for got, expected in zip(session.run(None, feeds), want.run(None, feeds)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_identity_of_an_outer_value_stays_in_the_branch():
    model = ir.serde.deserialize_model(_if_model())
    remove_inference_noops(model)
    if_node = next(n for n in model.graph if n.op_type == "If")
    for attribute in ("then_branch", "else_branch"):
        branch = if_node.attributes[attribute].as_graph()
        ops = [n.op_type for n in branch]
        # The decoder's Identity chain is gone (its LSTM writes the output); the passthrough of
        # the outer value stays, since a branch output must be the branch's own value.
        assert ops == ["Unsqueeze", "LSTM", "Identity"], ops
        assert branch.outputs[1].producer().op_type == "Identity"
    onnx.checker.check_model(ir.serde.serialize_model(model))


def test_identity_between_two_graph_outputs_stays():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Identity", ["a"], ["b"]),
    ]
    model = make_model(nodes, [tensor("x", [2])], [tensor("a", [2]), tensor("b", [2])])
    lifted = ir.serde.deserialize_model(model)
    remove_inference_noops(lifted)
    assert [v.name for v in lifted.graph.outputs] == ["a", "b"]
    x = np.array([-1.0, 2.0], np.float32)
    np.testing.assert_array_equal(InferenceSession(model).run(["b"], {"x": x})[0], [0.0, 2.0])
