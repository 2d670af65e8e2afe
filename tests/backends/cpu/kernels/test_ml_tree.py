"""Native TreeEnsembleClassifier/Regressor on `cpu`: skl2onnx models of scikit-learn trees match
onnxruntime (labels equal, scores within 1e-5) with every node on cpu; unsupported forms decline."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper

from tests.backends.cpu.ml_helpers import assert_matches, require, run_both, to_onnx  # noqa: E402

pytest.importorskip("xinrt._native")


def data(classes: int, seed: int, rows: int = 120, features: int = 6):
    """Seeded features with a few NaN-free ties and a label that depends on them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    x[:, 0] = np.round(x[:, 0], 1)  # repeated values exercise <= vs < at thresholds
    score = x[:, 0] + 0.5 * x[:, 1] - x[:, 2] * x[:, 3]
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return x, y, score


def fresh(seed: int, features: int = 6) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((50, features)).astype(np.float32)
    x[:5, 0] = np.round(x[:5, 0], 1)
    return x


def classifiers():
    require("scikit-learn")
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.tree import DecisionTreeClassifier

    return {
        "decision_tree": DecisionTreeClassifier(max_depth=5, random_state=0),
        "random_forest": RandomForestClassifier(n_estimators=12, max_depth=6, random_state=0),
        "extra_trees": ExtraTreesClassifier(n_estimators=10, max_depth=6, random_state=0),
        "gradient_boosting": GradientBoostingClassifier(
            n_estimators=15, max_depth=3, random_state=0
        ),
    }


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize(
    "name", ["decision_tree", "random_forest", "extra_trees", "gradient_boosting"]
)
def test_sklearn_classifier_matches_onnxruntime(name: str, classes: int) -> None:
    x, y, _ = data(classes, seed=classes)
    model = classifiers()[name].fit(x, y)
    onx = to_onnx(model, x)
    for threads in (1, 2):
        assert_matches(*run_both(onx, fresh(10 + classes), threads))
        assert_matches(*run_both(onx, fresh(20 + classes)[:1], threads))  # one row


@pytest.mark.parametrize(
    "name", ["decision_tree", "random_forest", "extra_trees", "gradient_boosting"]
)
def test_sklearn_regressor_matches_onnxruntime(name: str) -> None:
    require("scikit-learn")
    from sklearn.ensemble import (
        ExtraTreesRegressor,
        GradientBoostingRegressor,
        RandomForestRegressor,
    )
    from sklearn.tree import DecisionTreeRegressor

    estimator = {
        "decision_tree": DecisionTreeRegressor(max_depth=6, random_state=0),
        "random_forest": RandomForestRegressor(n_estimators=12, max_depth=6, random_state=0),
        "extra_trees": ExtraTreesRegressor(n_estimators=10, max_depth=6, random_state=0),
        "gradient_boosting": GradientBoostingRegressor(n_estimators=20, random_state=0),
    }[name]
    x, _, score = data(2, seed=5)
    onx = to_onnx(estimator.fit(x, score), x)
    for threads in (1, 2):
        assert_matches(*run_both(onx, fresh(30), threads))


def test_multi_target_regressor_matches_onnxruntime() -> None:
    require("scikit-learn")
    from sklearn.ensemble import RandomForestRegressor

    x, _, score = data(2, seed=6)
    targets = np.stack([score, x[:, 4] * 2], axis=1)
    onx = to_onnx(RandomForestRegressor(n_estimators=5, random_state=0).fit(x, targets), x)
    assert_matches(*run_both(onx, fresh(31)))


def tree_model(
    mode: str, aggregate: str = "SUM", missing_true: int = 0, post: str = "NONE"
) -> bytes:
    """Two one-split regression trees on feature 0 at threshold 0.5, leaf weights 1/2 and 3/4."""
    node = helper.make_node(
        "TreeEnsembleRegressor",
        ["x"],
        ["y"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function=aggregate,
        post_transform=post,
        base_values=[0.25],
        nodes_treeids=[0, 0, 0, 1, 1, 1],
        nodes_nodeids=[0, 1, 2, 0, 1, 2],
        nodes_featureids=[0, 0, 0, 1, 0, 0],
        nodes_modes=[mode, "LEAF", "LEAF", mode, "LEAF", "LEAF"],
        nodes_values=[0.5, 0, 0, 0.5, 0, 0],
        nodes_truenodeids=[1, 0, 0, 1, 0, 0],
        nodes_falsenodeids=[2, 0, 0, 2, 0, 0],
        nodes_missing_value_tracks_true=[missing_true, 0, 0, 0, 0, 0],
        target_treeids=[0, 0, 1, 1],
        target_nodeids=[1, 2, 1, 2],
        target_ids=[0, 0, 0, 0],
        target_weights=[1.0, 2.0, 3.0, 4.0],
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


@pytest.mark.parametrize(
    "mode", ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
)
@pytest.mark.parametrize("aggregate", ["SUM", "AVERAGE", "MIN", "MAX"])
@pytest.mark.parametrize("missing_true", [0, 1])
def test_node_modes_aggregates_and_nan_match_onnxruntime(
    mode: str, aggregate: str, missing_true: int
) -> None:
    x = np.array(
        [[0.5, 0.5], [0.4, 0.6], [0.6, 0.4], [np.nan, 0.5], [np.nan, np.nan], [-1.0, 2.0]],
        np.float32,
    )
    assert_matches(*run_both(tree_model(mode, aggregate, missing_true), x))


def test_probit_single_target_matches_onnxruntime() -> None:
    x = np.random.default_rng(3).uniform(0, 1, (20, 2)).astype(np.float32)
    onx = tree_model("BRANCH_LEQ", "AVERAGE", post="PROBIT")
    # leaf values averaged with base 0.25 exceed 1, so scale them into probit's (0, 1) domain
    model = ir.from_proto(__import__("onnx").load_from_string(onx))
    node = next(iter(model.graph))
    node.attributes["target_weights"] = ir.AttrFloat32s("target_weights", [0.1, 0.2, 0.3, 0.4])
    assert_matches(*run_both(ir.serde.serialize_model(model).SerializeToString(), x))


def test_unhandled_transform_is_declined_and_string_labels_run() -> None:
    from xinrt.backends.cpu import CpuBackend

    onx = tree_model("BRANCH_LEQ", post="SOFTMAX")
    model = ir.from_proto(__import__("onnx").load_from_string(onx))
    answer = CpuBackend().capability(model.graph)
    (support,) = answer.values()
    assert not support.claimed and "post_transform" in support.reason

    require("scikit-learn")
    from sklearn.tree import DecisionTreeClassifier

    x, y, _ = data(3, seed=1)
    names = np.array(["a", "b", "c"], dtype=object)[y]
    onx = to_onnx(DecisionTreeClassifier(max_depth=3).fit(x, names), x)
    got, want = run_both(onx, fresh(2))  # string labels: backends/cpu/string_labels.py
    assert got[0].dtype == want[0].dtype == object
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-5)


def test_large_forest_and_many_trees_paths_match_onnxruntime() -> None:
    """A large forest (several row blocks) and a 600-tree model (one row splits its trees over
    threads) both match, at 1 and 2 threads."""
    require("scikit-learn")
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier

    x, y, score = data(3, seed=9, rows=3000, features=6)
    big = RandomForestClassifier(n_estimators=40, random_state=0).fit(x, y)
    many = GradientBoostingRegressor(n_estimators=600, max_depth=2, random_state=0)
    for model in (to_onnx(big, x), to_onnx(many.fit(x[:300], score[:300]), x)):
        for threads in (1, 2):
            rows = np.random.default_rng(40).standard_normal((600, 6)).astype(np.float32)
            assert_matches(*run_both(model, rows, threads))
            assert_matches(*run_both(model, fresh(41)[:1], threads))
