"""Classic ML models: scikit-learn estimators and pipelines, LightGBM and XGBoost, converted with
skl2onnx / onnxmltools (ai.onnx.ml ops), trained on seeded synthetic data at build time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .entry import FeedSpec, ModelEntry

FEATURES = 8
ROWS = 400
BATCH = 16
CATEGORICAL = (6, 7)  # columns holding small integers (codes) for the encoders
ML_OPSET = {"": 17, "ai.onnx.ml": 3}
MLTOOLS_OPSET = 15  # the newest onnxmltools 1.16 converts to

Factory = Callable[[], Any]  # returns an unfitted estimator


def _matrix(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Features: standard normal, the categorical columns integer codes 0..3, as float32."""
    x = rng.standard_normal((rows, FEATURES))
    for c in CATEGORICAL:
        x[:, c] = rng.integers(0, 4, rows)
    return x.astype(np.float32)


def _feed(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    return _matrix(rng, shape[0]).astype(dtype)


def training_data(task: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded features and a target: `binary`/`multi` class labels or a `regression` value."""
    rng = np.random.default_rng(2024)
    x = _matrix(rng, ROWS)
    score = x[:, 0] - 0.7 * x[:, 1] + x[:, 2] * x[:, 3] + 0.5 * x[:, 6]
    score += 0.3 * rng.standard_normal(ROWS)
    if task == "regression":
        return x, score.astype(np.float32)
    classes = 2 if task == "binary" else 4
    edges = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
    return x, np.digitize(score, edges).astype(np.int64)


def _save(onx: Any, path: Path) -> None:
    path.write_bytes(onx.SerializeToString())


@contextmanager
def _int_missing_flags() -> Iterator[None]:
    """skl2onnx 1.20 gives HistGradientBoosting leaves a Python bool missing-value flag, which
    onnx's protobuf refuses in an ints attribute; the flag goes in as the int it means."""
    from skl2onnx.common import tree_ensemble

    add_node = tree_ensemble.add_node

    def int_flag_add_node(*args: Any, **kwargs: Any) -> Any:
        flag = kwargs.get("nodes_missing_value_tracks_true")
        if flag is not None:
            kwargs["nodes_missing_value_tracks_true"] = int(flag)
        return add_node(*args, **kwargs)

    tree_ensemble.add_node = int_flag_add_node
    try:
        yield
    finally:
        tree_ensemble.add_node = add_node


def _sklearn(factory: Factory, task: str, zipmap: bool) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
        from sklearn.base import is_classifier

        x, y = training_data(task)
        model = factory().fit(x, y)
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        options = None
        # SVC/NuSVC without probabilities have no predict_proba but get a ZipMap all the same.
        has_zipmap = hasattr(final, "predict_proba") or hasattr(final, "support_vectors_")
        if has_zipmap and is_classifier(final) and not zipmap:
            options = {id(final): {"zipmap": False}}
        with _int_missing_flags():
            onx = to_onnx(
                model,
                initial_types=[("x", FloatTensorType([None, FEATURES]))],
                options=options,
                target_opset=ML_OPSET,
            )
        _save(onx, path)

    return build


def _onnxmltools(factory: Factory, task: str, zipmap: bool) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType

        x, y = training_data(task)
        model = factory().fit(x, y)
        initial = [("x", FloatTensorType([None, FEATURES]))]
        if type(model).__module__.startswith("lightgbm"):
            onx = onnxmltools.convert_lightgbm(
                model, initial_types=initial, target_opset=MLTOOLS_OPSET, zipmap=zipmap
            )
        else:  # the XGBoost converter has no ZipMap option: its probabilities are a tensor
            onx = onnxmltools.convert_xgboost(
                model, initial_types=initial, target_opset=MLTOOLS_OPSET
            )
        _save(onx, path)

    return build


def _sk(module: str, cls: str, *args: Any, **kwargs: Any) -> Factory:
    """A factory of `module.cls(*args, **kwargs)`, imported at build time."""

    def make() -> Any:
        import importlib

        return getattr(importlib.import_module(module), cls)(*args, **kwargs)

    return make


def _pipeline(*steps: Factory) -> Factory:
    def make() -> Any:
        from sklearn.pipeline import make_pipeline

        return make_pipeline(*(s() for s in steps))

    return make


def _column_transformer(final: Factory) -> Factory:
    def make() -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = [c for c in range(FEATURES) if c not in CATEGORICAL]
        columns = ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
            ]
        )
        return make_pipeline(columns, final())

    return make


# name -> (factory, task, task description)
_SKLEARN: dict[str, tuple[Factory, str, str]] = {
    "logreg_binary": (
        _sk("sklearn.linear_model", "LogisticRegression", max_iter=500),
        "binary",
        "LR",
    ),
    "logreg_multi": (
        _sk("sklearn.linear_model", "LogisticRegression", max_iter=500),
        "multi",
        "LR",
    ),
    "sgd_classifier": (
        _sk("sklearn.linear_model", "SGDClassifier", loss="log_loss", random_state=0),
        "multi",
        "SGD",
    ),
    "decision_tree_classifier": (
        _sk("sklearn.tree", "DecisionTreeClassifier", max_depth=6, random_state=0),
        "multi",
        "tree",
    ),
    "random_forest_binary": (
        _sk(
            "sklearn.ensemble",
            "RandomForestClassifier",
            n_estimators=30,
            max_depth=8,
            random_state=0,
        ),
        "binary",
        "forest",
    ),
    "random_forest_multi": (
        _sk(
            "sklearn.ensemble",
            "RandomForestClassifier",
            n_estimators=30,
            max_depth=8,
            random_state=0,
        ),
        "multi",
        "forest",
    ),
    "extra_trees_classifier": (
        _sk(
            "sklearn.ensemble", "ExtraTreesClassifier", n_estimators=20, max_depth=8, random_state=0
        ),
        "multi",
        "forest",
    ),
    "gradient_boosting_binary": (
        _sk("sklearn.ensemble", "GradientBoostingClassifier", n_estimators=40, random_state=0),
        "binary",
        "boosting",
    ),
    "gradient_boosting_multi": (
        _sk("sklearn.ensemble", "GradientBoostingClassifier", n_estimators=20, random_state=0),
        "multi",
        "boosting",
    ),
    "hist_gradient_boosting_classifier": (
        _sk("sklearn.ensemble", "HistGradientBoostingClassifier", max_iter=30, random_state=0),
        "multi",
        "boosting",
    ),
    "svc_rbf": (_sk("sklearn.svm", "SVC", probability=True, random_state=0), "multi", "SVM"),
    "linear_svc": (_sk("sklearn.svm", "LinearSVC", random_state=0), "multi", "SVM"),
    "kneighbors_classifier": (_sk("sklearn.neighbors", "KNeighborsClassifier", 5), "multi", "kNN"),
    "gaussian_nb": (_sk("sklearn.naive_bayes", "GaussianNB"), "multi", "naive Bayes"),
    "mlp_classifier": (
        _sk("sklearn.neural_network", "MLPClassifier", (16,), max_iter=300, random_state=0),
        "multi",
        "MLP",
    ),
    "linear_regression": (_sk("sklearn.linear_model", "LinearRegression"), "regression", "linear"),
    "ridge": (_sk("sklearn.linear_model", "Ridge", alpha=0.5), "regression", "linear"),
    "lasso": (_sk("sklearn.linear_model", "Lasso", alpha=0.01), "regression", "linear"),
    "decision_tree_regressor": (
        _sk("sklearn.tree", "DecisionTreeRegressor", max_depth=8, random_state=0),
        "regression",
        "tree",
    ),
    "random_forest_regressor": (
        _sk(
            "sklearn.ensemble",
            "RandomForestRegressor",
            n_estimators=30,
            max_depth=8,
            random_state=0,
        ),
        "regression",
        "forest",
    ),
    "gradient_boosting_regressor": (
        _sk("sklearn.ensemble", "GradientBoostingRegressor", n_estimators=50, random_state=0),
        "regression",
        "boosting",
    ),
    "hist_gradient_boosting_regressor": (
        _sk("sklearn.ensemble", "HistGradientBoostingRegressor", max_iter=30, random_state=0),
        "regression",
        "boosting",
    ),
    "svr": (_sk("sklearn.svm", "SVR"), "regression", "SVM"),
    "kneighbors_regressor": (
        _sk("sklearn.neighbors", "KNeighborsRegressor", 5),
        "regression",
        "kNN",
    ),
    "scaler_logreg": (
        _pipeline(
            _sk("sklearn.preprocessing", "StandardScaler"),
            _sk("sklearn.linear_model", "LogisticRegression", max_iter=500),
        ),
        "multi",
        "pipeline",
    ),
    "imputer_minmax_forest": (
        _pipeline(
            _sk("sklearn.impute", "SimpleImputer"),
            _sk("sklearn.preprocessing", "MinMaxScaler"),
            _sk("sklearn.ensemble", "RandomForestClassifier", n_estimators=10, random_state=0),
        ),
        "binary",
        "pipeline",
    ),
    "normalizer_ridge": (
        _pipeline(_sk("sklearn.preprocessing", "Normalizer"), _sk("sklearn.linear_model", "Ridge")),
        "regression",
        "pipeline",
    ),
    "column_transformer_logreg": (
        _column_transformer(_sk("sklearn.linear_model", "LogisticRegression", max_iter=500)),
        "multi",
        "pipeline",
    ),
    "column_transformer_gbr": (
        _column_transformer(
            _sk("sklearn.ensemble", "GradientBoostingRegressor", n_estimators=30, random_state=0)
        ),
        "regression",
        "pipeline",
    ),
}

# name -> (factory, task); converted by onnxmltools.
_BOOSTERS: dict[str, tuple[Factory, str]] = {
    "lightgbm_binary": (
        _sk("lightgbm", "LGBMClassifier", n_estimators=50, verbose=-1, random_state=0),
        "binary",
    ),
    "lightgbm_multi": (
        _sk("lightgbm", "LGBMClassifier", n_estimators=30, verbose=-1, random_state=0),
        "multi",
    ),
    "lightgbm_regressor": (
        _sk("lightgbm", "LGBMRegressor", n_estimators=50, verbose=-1, random_state=0),
        "regression",
    ),
    "xgboost_binary": (
        _sk("xgboost", "XGBClassifier", n_estimators=30, max_depth=4, random_state=0),
        "binary",
    ),
    "xgboost_multi": (
        _sk("xgboost", "XGBClassifier", n_estimators=20, max_depth=4, random_state=0),
        "multi",
    ),
    "xgboost_regressor": (
        _sk("xgboost", "XGBRegressor", n_estimators=30, max_depth=4, random_state=0),
        "regression",
    ),
}

# SVMs in every form, more kNN, naive Bayes and encoder pipelines (the native SVM, OneHotEncoder
# and LabelEncoder kernels); converted like _SKLEARN, ZipMap off.
_SKLEARN_MORE: dict[str, tuple[Factory, str, str]] = {
    "svc_linear_binary": (_sk("sklearn.svm", "SVC", kernel="linear"), "binary", "SVM"),
    "svc_linear_proba": (
        _sk("sklearn.svm", "SVC", kernel="linear", probability=True, random_state=0),
        "multi",
        "SVM",
    ),
    "svc_rbf_multi": (_sk("sklearn.svm", "SVC"), "multi", "SVM"),
    "svc_rbf_proba_binary": (
        _sk("sklearn.svm", "SVC", probability=True, random_state=0),
        "binary",
        "SVM",
    ),
    "svc_poly_multi": (_sk("sklearn.svm", "SVC", kernel="poly", coef0=1.0), "multi", "SVM"),
    "nusvc_sigmoid_proba": (
        _sk("sklearn.svm", "NuSVC", kernel="sigmoid", nu=0.3, probability=True, random_state=0),
        "multi",
        "SVM",
    ),
    "nusvr_poly": (_sk("sklearn.svm", "NuSVR", kernel="poly", degree=2), "regression", "SVM"),
    "linear_svr": (_sk("sklearn.svm", "LinearSVR", random_state=0), "regression", "SVM"),
    "kneighbors_distance_binary": (
        _sk("sklearn.neighbors", "KNeighborsClassifier", 7, weights="distance"),
        "binary",
        "kNN",
    ),
    "multinomial_nb": (
        _pipeline(
            _sk("sklearn.preprocessing", "MinMaxScaler"),
            _sk("sklearn.naive_bayes", "MultinomialNB"),
        ),
        "multi",
        "naive Bayes",
    ),
    "bernoulli_nb": (_sk("sklearn.naive_bayes", "BernoulliNB"), "binary", "naive Bayes"),
    "column_transformer_forest": (
        _column_transformer(
            _sk("sklearn.ensemble", "RandomForestClassifier", n_estimators=20, random_state=0)
        ),
        "binary",
        "pipeline",
    ),
    "column_transformer_svr": (
        _column_transformer(_sk("sklearn.svm", "SVR")),
        "regression",
        "pipeline",
    ),
    "pca_logreg": (
        _pipeline(
            _sk("sklearn.decomposition", "PCA", 4),
            _sk("sklearn.linear_model", "LogisticRegression", max_iter=500),
        ),
        "multi",
        "pipeline",
    ),
}

# ZipMap on (a list of {class: probability} dicts): skl2onnx's and onnxmltools' default.
_ZIPMAP = ("logreg_binary", "random_forest_multi", "lightgbm_multi")


def _entry(
    name: str, build: Callable[[Path], None], task: str, source: str, needs: tuple[str, ...]
) -> ModelEntry:
    labelled = task != "regression"
    return ModelEntry(
        name=f"classic_{name}",
        group="classic",
        task=f"{task} {'classifier' if labelled else 'regressor'}",
        source=source,
        builder=build,
        feeds=FeedSpec(shapes={"x": [BATCH, FEATURES]}, values={"x": _feed}),
        needs=needs,
    )


def classic_entries() -> list[ModelEntry]:
    """Every classic model: scikit-learn via skl2onnx, LightGBM/XGBoost via onnxmltools."""
    found = []
    for name, (factory, task, kind) in _SKLEARN.items():
        source = f"skl2onnx {kind} ({name}), ZipMap off, ai.onnx.ml opset 3"
        found.append(
            _entry(name, _sklearn(factory, task, False), task, source, ("sklearn", "skl2onnx"))
        )
    for name, (factory, task) in _BOOSTERS.items():
        package = name.split("_")[0]
        source = f"onnxmltools {package} ({name}), ZipMap off, opset 15"
        needs = (package, "onnxmltools", "sklearn")
        found.append(_entry(name, _onnxmltools(factory, task, False), task, source, needs))
    for name in _ZIPMAP:
        if name in _SKLEARN:
            factory, task, _ = _SKLEARN[name]
            build = _sklearn(factory, task, True)
            modules: tuple[str, ...] = ("sklearn", "skl2onnx")
        else:
            factory, task = _BOOSTERS[name]
            build = _onnxmltools(factory, task, True)
            modules = (name.split("_")[0], "onnxmltools", "sklearn")
        source = f"{name} with ZipMap on (seq(map) output)"
        found.append(_entry(f"{name}_zipmap", build, task, source, modules))
    for name, (factory, task, kind) in _SKLEARN_MORE.items():
        source = f"skl2onnx {kind} ({name}), ZipMap off, ai.onnx.ml opset 3"
        found.append(
            _entry(name, _sklearn(factory, task, False), task, source, ("sklearn", "skl2onnx"))
        )
    return found
