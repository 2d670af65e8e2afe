"""Native ai.onnx.ml linear models and transforms on `cpu`: skl2onnx pipelines of scikit-learn
models match onnxruntime (labels equal, scores within 1e-5) with every node on cpu."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from tests.backends.cpu.ml_helpers import assert_matches, require, run_both, to_onnx  # noqa: E402

pytest.importorskip("xinrt._native")


def data(classes: int, seed: int, rows: int = 150, features: int = 5):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, features)) * [1, 3, 0.5, 2, 1] + [0, 1, -2, 0, 4]).astype(
        np.float32
    )
    score = x[:, 0] - 0.3 * x[:, 1] + x[:, 2]
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return x, y, score


def fresh(seed: int, rows: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, 5)) * [1, 3, 0.5, 2, 1] + [0, 1, -2, 0, 4]).astype(
        np.float32
    )


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("scaler", ["standard", "minmax", "normalizer", "none"])
def test_logistic_regression_pipelines_match_onnxruntime(classes: int, scaler: str) -> None:
    require("scikit-learn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler

    steps = {
        "standard": [StandardScaler()],
        "minmax": [MinMaxScaler()],
        "normalizer": [Normalizer()],
    }
    x, y, _ = data(classes, seed=classes)
    model = make_pipeline(*steps.get(scaler, []), LogisticRegression(max_iter=500)).fit(x, y)
    onx = to_onnx(model, x)
    assert_matches(*run_both(onx, fresh(7)))
    assert_matches(*run_both(onx, fresh(8, rows=1)))


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalizer_and_regressors_match_onnxruntime(norm: str) -> None:
    require("scikit-learn")
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler

    x, _, score = data(2, seed=4)
    for model in (
        make_pipeline(Normalizer(norm=norm), LinearRegression()),
        make_pipeline(StandardScaler(), Ridge(alpha=0.5)),
    ):
        assert_matches(*run_both(to_onnx(model.fit(x, score), x), fresh(9)))
    targets = np.stack([score, x[:, 3]], axis=1)
    assert_matches(*run_both(to_onnx(LinearRegression().fit(x, targets), x), fresh(10)))


def test_imputer_binarizer_pipeline_matches_onnxruntime() -> None:
    require("scikit-learn")
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Binarizer

    x, y, _ = data(3, seed=11)
    x[::7, 1] = np.nan
    for first in (SimpleImputer(strategy="mean"), SimpleImputer(strategy="median")):
        model = make_pipeline(first, RandomForestClassifier(n_estimators=5, random_state=0))
        onx = to_onnx(model.fit(x, y), x)
        feed = fresh(12)
        feed[::3, 1] = np.nan
        assert_matches(*run_both(onx, feed))
    binarized = make_pipeline(SimpleImputer(), Binarizer(threshold=0.5))
    onx = to_onnx(binarized.fit(x), x)
    feed = fresh(13)
    feed[::4, 0] = np.nan
    assert_matches(*run_both(onx, feed))


def test_array_feature_extractor_and_feature_vectorizer_match_onnxruntime() -> None:
    afe = helper.make_node("ArrayFeatureExtractor", ["x", "idx"], ["a"], domain="ai.onnx.ml")
    fv = helper.make_node(
        "FeatureVectorizer", ["a", "x"], ["y"], domain="ai.onnx.ml", inputdimensions=[2, 6]
    )
    idx = helper.make_tensor("idx", TensorProto.INT64, [2], [3, 0])
    graph = helper.make_graph(
        [afe, fv],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8])],
        [idx],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()
    assert_matches(*run_both(model, fresh(14)))


def test_binary_single_column_linear_classifier_is_declined() -> None:
    import onnx_ir as ir

    from xinrt.backends.cpu import CpuBackend

    node = helper.make_node(
        "LinearClassifier",
        ["x"],
        ["label", "scores"],
        domain="ai.onnx.ml",
        coefficients=[0.5, -1.0],
        intercepts=[0.1],
        classlabels_ints=[0, 1],
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, 2]),
        ],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)]
    model = ir.from_proto(helper.make_model(graph, opset_imports=opsets, ir_version=8))
    (support,) = CpuBackend().capability(model.graph).values()
    assert not support.claimed and "one score column" in support.reason
