"""The opset-5 ai.onnx.ml TreeEnsemble on `cpu`: scikit-learn forests rewritten in the opset-5
form, and hand-built trees with set membership, NaN tracking, several targets and one-leaf trees,
match onnxruntime (within 1e-5) with every node on cpu; forms ORT reads differently from the
spec are declined."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.backends.cpu.ml_helpers import assert_matches, require, run_both, to_onnx  # noqa: E402

pytest.importorskip("xinrt._native")

MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]


def tensor(name: str, values: Any, dtype: Any = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype), name)


def model_v5(features: int, outputs: int, **attrs: Any) -> bytes:
    node = helper.make_node("TreeEnsemble", ["x"], ["y"], domain="ai.onnx.ml", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, outputs])],
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10).SerializeToString()


def v3_to_v5(onx: bytes, features: int) -> bytes:
    """A single-target TreeEnsembleRegressor model rewritten as the opset-5 TreeEnsemble."""
    proto = onnx.load_from_string(onx)
    (node,) = [n for n in proto.graph.node if n.op_type == "TreeEnsembleRegressor"]
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    assert not any(a.get("base_values", [])), "base_values have no opset-5 form"
    weight = {
        (t, n): w for t, n, w in zip(a["target_treeids"], a["target_nodeids"], a["target_weights"])
    }
    position = {(t, n): i for i, (t, n) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"]))}
    interior: dict[tuple[int, int], int] = {}
    leaves: dict[tuple[int, int], int] = {}
    for key, i in position.items():
        book = leaves if a["nodes_modes"][i] == b"LEAF" else interior
        book[key] = len(book)
    nodes: dict[str, list[Any]] = {k: [] for k in ("feat", "split", "mode", "t", "f", "tl", "fl")}
    for key in sorted(interior, key=interior.__getitem__):
        p = position[key]
        nodes["feat"].append(a["nodes_featureids"][p])
        nodes["split"].append(a["nodes_values"][p])
        nodes["mode"].append(MODES.index(a["nodes_modes"][p].decode()))
        for side, flag, ids in (
            ("t", "tl", "nodes_truenodeids"),
            ("f", "fl", "nodes_falsenodeids"),
        ):
            child = (key[0], a[ids][p])
            leaf = child in leaves
            nodes[side].append(leaves[child] if leaf else interior[child])
            nodes[flag].append(int(leaf))
    roots = []
    for tree in sorted({t for t, _ in position}):
        first = min((i, key) for key, i in position.items() if key[0] == tree)[1]
        roots.append(interior[first])
    leaf_keys = sorted(leaves, key=lambda k: leaves[k])
    return model_v5(
        features,
        1,
        n_targets=1,
        aggregate_function=["AVERAGE", "SUM"].index(a.get("aggregate_function", b"SUM").decode()),
        tree_roots=roots,
        nodes_featureids=nodes["feat"],
        nodes_splits=tensor("s", nodes["split"]),
        nodes_modes=tensor("m", nodes["mode"], np.uint8),
        nodes_truenodeids=nodes["t"],
        nodes_falsenodeids=nodes["f"],
        nodes_trueleafs=nodes["tl"],
        nodes_falseleafs=nodes["fl"],
        leaf_targetids=[0] * len(leaf_keys),
        leaf_weights=tensor("w", [weight[k] for k in leaf_keys]),
    )


def fresh(seed: int, features: int, rows: int = 40) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, features)).astype(np.float32)
    x[:4, 0] = np.round(x[:4, 0], 1)
    return x


def test_sklearn_forest_as_opset5_matches_onnxruntime_and_the_opset3_model() -> None:
    require("scikit-learn")
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 5)).astype(np.float32)
    y = x[:, 0] - x[:, 1] * x[:, 2]
    forest = RandomForestRegressor(n_estimators=8, max_depth=5, random_state=0).fit(x, y)
    v3 = to_onnx(forest, x)
    v5 = v3_to_v5(v3, 5)
    feed = fresh(1, 5)
    got, want = run_both(v5, feed)
    assert_matches(got, want)
    # The same numbers as the opset-3 model it was rewritten from.
    np.testing.assert_allclose(got[0], run_both(v3, feed)[1][0], rtol=1e-5, atol=1e-5)


def hand_built(post_transform: int = 0, aggregate: int = 1, **overrides: Any) -> bytes:
    """Two trees over 3 features and 2 targets: tree 0 has a BRANCH_MEMBER root (feature 2 in
    {1, 3, 4}), NaN tracking and LT/GTE/NEQ branches; tree 1 is a single leaf."""
    attrs: dict[str, Any] = {
        "n_targets": 2,
        "aggregate_function": aggregate,
        "post_transform": post_transform,
        "tree_roots": [0, 4],
        # node 0: x2 in {1,3,4}? -> node 1 : node 2
        # node 1: x0 < 0.25 (NaN -> true) -> leaf 0 : leaf 1
        # node 2: x1 >= -0.5 -> node 3 : leaf 2
        # node 3: x0 != 1.0 -> leaf 3 : leaf 0
        # node 4: one-leaf tree (true = false = leaf 4)
        "nodes_featureids": [2, 0, 1, 0, 0],
        "nodes_splits": tensor("s", [0.0, 0.25, -0.5, 1.0, 0.0]),
        "nodes_modes": tensor("m", [6, 1, 2, 5, 0], np.uint8),
        "membership_values": tensor("mv", [1.0, 3.0, 4.0, np.nan]),
        "nodes_missing_value_tracks_true": [0, 1, 0, 0, 0],
        "nodes_truenodeids": [1, 0, 3, 3, 4],
        "nodes_trueleafs": [0, 1, 0, 1, 1],
        "nodes_falsenodeids": [2, 1, 2, 0, 4],
        "nodes_falseleafs": [0, 1, 1, 1, 1],
        "leaf_targetids": [0, 1, 0, 1, 1],
        "leaf_weights": tensor("w", [1.5, -2.0, 0.75, 3.0, 0.125]),
    }
    attrs.update(overrides)
    return model_v5(3, 2, **attrs)


def categorical(seed: int) -> np.ndarray:
    x = fresh(seed, 3, rows=48)
    x[:, 2] = np.random.default_rng(seed).integers(0, 6, 48)
    x[::5, 0] = np.nan
    x[::7, 0] = 1.0
    return x


@pytest.mark.parametrize("aggregate", [0, 1, 2, 3])
@pytest.mark.parametrize("post_transform", [0, 3, 4])
def test_hand_built_trees_match_onnxruntime(aggregate: int, post_transform: int) -> None:
    if post_transform == 4:  # PROBIT wants scores in (0, 1)
        weights = tensor("w", [0.3, 0.6, 0.2, 0.7, 0.1])
        model = hand_built(post_transform, aggregate, leaf_weights=weights)
    else:
        model = hand_built(post_transform, aggregate)
    assert_matches(*run_both(model, categorical(2)))


def declined(model: bytes) -> str:
    from xinrt.backends.cpu import CpuBackend

    graph = ir.from_proto(onnx.load_from_string(model)).graph
    (support,) = CpuBackend().capability(graph).values()
    assert not support.claimed
    return str(support.reason)


def test_forms_ort_reads_otherwise_are_declined() -> None:
    for softmax_or_logistic in (1, 2):
        assert "disagree" in declined(hand_built(softmax_or_logistic))
    doubles = hand_built(nodes_splits=tensor("s", [0.0, 0.25, -0.5, 1.0, 0.0], np.float64))
    assert "float32" in declined(doubles)
    # A one-leaf tree whose root entry points at another leaf: ORT reads leaf[root index].
    assert "one-leaf" in declined(
        hand_built(nodes_truenodeids=[1, 0, 3, 3, 2], nodes_falsenodeids=[2, 1, 2, 0, 2])
    )
    cyclic = hand_built(nodes_falsenodeids=[2, 1, 0, 0, 4], nodes_falseleafs=[0, 1, 0, 1, 1])
    assert "not a tree" in declined(cyclic)
