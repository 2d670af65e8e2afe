"""Classifiers with string class labels run on `cpu` (backends/cpu/string_labels.py): the native
kernel with labels 0..n-1, then a label lookup; labels equal to ORT's, scores within 1e-5."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.backends.cpu.ml_helpers import require, run_both, to_onnx

NAMES = np.array(["bronze", "silver", "gold", "platinum"], dtype=object)


def _data(classes: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((160, 4)).astype(np.float32)
    score = x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2]
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    fresh = np.random.default_rng(seed + 100).standard_normal((50, 4)).astype(np.float32)
    return x, NAMES[y], fresh


def _assert_same(got: list[Any], want: list[Any]) -> None:
    assert got[0].dtype == want[0].dtype == object and got[0].shape == want[0].shape
    np.testing.assert_array_equal(got[0], want[0])
    assert len(set(want[0].tolist())) > 1  # the inputs reach more than one class
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def _estimator(kind: str) -> Any:
    require("scikit-learn")
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    return {
        "logreg": LogisticRegression(max_iter=500),
        "forest": RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0),
        "svc": SVC(probability=True, random_state=0),
    }[kind]


@pytest.mark.parametrize("classes", [2, 3, 4])
@pytest.mark.parametrize("kind", ["logreg", "forest", "svc"])
def test_string_labelled_classifiers_match_onnxruntime(kind: str, classes: int) -> None:
    x, y, fresh = _data(classes, seed=classes)
    model = to_onnx(_estimator(kind).fit(x, y), x)
    _assert_same(*run_both(model, fresh))


def test_the_twin_keeps_the_graph_and_declines_what_the_kernel_declines() -> None:
    import onnx_ir as ir
    from onnx import TensorProto, helper

    from xinrt.backends.cpu import CpuBackend

    node = helper.make_node(
        "LinearClassifier",
        ["x"],
        ["label", "scores"],
        domain="ai.onnx.ml",
        coefficients=[0.5, -1.0],  # one score column for two labels: the native kernel declines
        intercepts=[0.1],
        classlabels_strings=["no", "yes"],
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [
            helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, 2]),
        ],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)]
    model = ir.from_proto(helper.make_model(graph, opset_imports=opsets, ir_version=8))
    (support,) = CpuBackend().capability(model.graph).values()
    assert not support.claimed and "one score column" in support.reason
    (only,) = model.graph
    assert "classlabels_strings" in only.attributes and "classlabels_ints" not in only.attributes
    assert [len(v.uses()) for v in model.graph.inputs] == [1]
