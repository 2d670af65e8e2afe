"""Native SVMClassifier/SVMRegressor on `cpu`: skl2onnx models of scikit-learn SVMs (every kernel,
with and without Platt probabilities) and hand-built nodes match onnxruntime (labels equal,
scores within 1e-5) with every node on cpu; what ORT leaves undefined is declined."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper

from tests.backends.cpu.ml_helpers import assert_matches, require, run_both, to_onnx  # noqa: E402

pytest.importorskip("xinrt._native")
# scikit-learn 1.9 deprecates SVC(probability=True); skl2onnx still converts it.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def data(classes: int, seed: int, rows: int = 90, features: int = 4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    score = x[:, 0] - 0.6 * x[:, 1] + 0.4 * x[:, 2] * x[:, 3]
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return x, y, score


def fresh(seed: int, rows: int = 40, features: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, features)).astype(np.float32)


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf", "sigmoid"])
@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("probability", [False, True])
def test_svc_matches_onnxruntime(kernel: str, classes: int, probability: bool) -> None:
    require("scikit-learn")
    from sklearn.svm import SVC

    x, y, _ = data(classes, seed=classes + 10 * probability)
    model = SVC(kernel=kernel, probability=probability, degree=3, coef0=0.5, random_state=0)
    onx = to_onnx(model.fit(x, y), x)
    assert_matches(*run_both(onx, fresh(1)))
    assert_matches(*run_both(onx, fresh(2, rows=1), threads=2))


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf"])
def test_svr_and_nusvr_match_onnxruntime(kernel: str) -> None:
    require("scikit-learn")
    from sklearn.svm import SVR, NuSVR

    x, _, score = data(2, seed=5)
    for model in (SVR(kernel=kernel, degree=2), NuSVR(kernel=kernel, degree=4, coef0=1.0)):
        assert_matches(*run_both(to_onnx(model.fit(x, score), x), fresh(3)))


def test_four_class_svc_with_probabilities_matches_onnxruntime() -> None:
    require("scikit-learn")
    from sklearn.svm import SVC

    x, y, _ = data(4, seed=6, rows=160)
    onx = to_onnx(SVC(probability=True, random_state=0).fit(x, y), x)
    assert_matches(*run_both(onx, fresh(4, rows=64), threads=2))


def svm_node(op: str, outputs: list[str], **attrs: Any) -> bytes:
    """A one-node model over x [None, 3]."""
    node = helper.make_node(op, ["x"], outputs, domain="ai.onnx.ml", **attrs)
    if op == "SVMClassifier":
        outs = [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, None]),
        ]
    else:
        outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])]
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])], outs
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


def classifier(classes: int, transform: str, probability: bool, kernel: str = "RBF") -> bytes:
    """A libsvm-style classifier with seeded support vectors (2 per class)."""
    rng = np.random.default_rng(classes)
    vectors = 2 * classes
    pairs = classes * (classes - 1) // 2
    attrs: dict[str, Any] = {
        "kernel_type": kernel,
        "kernel_params": [0.3, 0.2, 3.0],
        "classlabels_ints": list(range(10, 10 + classes)),
        "vectors_per_class": [2] * classes,
        "support_vectors": rng.standard_normal(vectors * 3).tolist(),
        "coefficients": rng.standard_normal((classes - 1) * vectors).tolist(),
        "rho": rng.standard_normal(pairs).tolist(),
        "post_transform": transform,
    }
    if probability:
        attrs["prob_a"] = (-1 - rng.random(pairs)).tolist()
        attrs["prob_b"] = (0.1 * rng.standard_normal(pairs)).tolist()
    return svm_node("SVMClassifier", ["label", "scores"], **attrs)


@pytest.mark.parametrize("transform", ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"])
@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("probability", [False, True])
def test_post_transforms_match_onnxruntime(transform: str, classes: int, probability: bool) -> None:
    model = classifier(classes, transform, probability, kernel="POLY" if classes == 3 else "RBF")
    assert_matches(*run_both(model, fresh(20, features=3)))


@pytest.mark.parametrize("transform", ["NONE", "LOGISTIC", "SOFTMAX"])
@pytest.mark.parametrize("weights", ["mixed", "positive"])
def test_liblinear_classifier_matches_onnxruntime(transform: str, weights: str) -> None:
    """No support vectors: one coefficient row per class and rho[0] as the shared bias."""
    rng = np.random.default_rng(7)
    for classes in (2, 3):
        coef = rng.standard_normal(3 * classes)
        if weights == "positive":
            coef = np.abs(coef) * 0.2
        model = svm_node(
            "SVMClassifier",
            ["label", "scores"],
            kernel_type="LINEAR",
            kernel_params=[0.0, 0.0, 0.0],
            classlabels_ints=list(range(classes)),
            coefficients=coef.tolist(),
            rho=[0.25],
            post_transform=transform,
        )
        assert_matches(*run_both(model, fresh(21, features=3)))


def test_classifier_takes_double_and_int64_inputs_like_onnxruntime() -> None:
    from xinrt import InferenceSession

    ort = pytest.importorskip("onnxruntime")
    model = classifier(3, "NONE", True)
    for dtype, onnx_type in ((np.float64, TensorProto.DOUBLE), (np.int64, TensorProto.INT64)):
        proto = __import__("onnx").load_from_string(model)
        proto.graph.input[0].type.tensor_type.elem_type = onnx_type
        changed = proto.SerializeToString()
        x = (fresh(22, features=3) * 2).astype(dtype)
        got = InferenceSession(changed, backends=["cpu"]).run(None, {"x": x})
        want = ort.InferenceSession(changed, providers=["CPUExecutionProvider"]).run(None, {"x": x})
        assert_matches(got, want)


def test_regressor_linear_mode_and_one_class_match_onnxruntime() -> None:
    rng = np.random.default_rng(8)
    linear = svm_node(
        "SVMRegressor",
        ["y"],
        kernel_type="LINEAR",
        kernel_params=[0.0, 0.0, 0.0],
        coefficients=rng.standard_normal(3).tolist(),
        rho=[0.5],
    )
    assert_matches(*run_both(linear, fresh(23, features=3)))
    one_class = svm_node(
        "SVMRegressor",
        ["y"],
        kernel_type="SIGMOID",
        kernel_params=[0.4, 0.1, 0.0],
        n_supports=4,
        support_vectors=rng.standard_normal(12).tolist(),
        coefficients=rng.standard_normal(4).tolist(),
        rho=[-0.1],
        one_class=1,
    )
    assert_matches(*run_both(one_class, fresh(24, features=3)))


def reason(model: bytes) -> str:
    from xinrt.backends.cpu import CpuBackend

    graph = ir.from_proto(__import__("onnx").load_from_string(model)).graph
    (support,) = CpuBackend().capability(graph).values()
    assert not support.claimed
    return str(support.reason)


def test_undefined_forms_are_declined() -> None:
    assert "PROBIT" in reason(classifier(2, "PROBIT", False))
    strings = svm_node(
        "SVMRegressor",
        ["y"],
        kernel_type="RBF",
        kernel_params=[0.1, 0.0, 3.0],
        n_supports=1,
        support_vectors=[1.0, 2.0, 3.0],
        coefficients=[1.0],
        rho=[0.0],
        post_transform="LOGISTIC",
    )
    assert "post_transform" in reason(strings)
    no_params = svm_node(
        "SVMRegressor", ["y"], coefficients=[1.0, 2.0, 3.0], rho=[0.0], kernel_type="LINEAR"
    )
    assert "kernel_params" in reason(no_params)


def test_feature_count_mismatch_is_a_clear_error() -> None:
    from xinrt import InferenceSession, XinrtError

    proto = __import__("onnx").load_from_string(classifier(3, "NONE", False))
    proto.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "features"
    session = InferenceSession(proto.SerializeToString(), backends=["cpu"])
    with pytest.raises(XinrtError, match="features"):
        session.run(None, {"x": fresh(25, features=3)[:, :2].copy()})
