"""Classic ML models with ZipMap on (the converters' default): probabilities come out as a list
of {class: probability} dicts (`seq(map(int64|string, float))`), and a DictVectorizer pipeline
that takes a dict (`map(string, float)`). The ZipMap-off forms live in classic_models.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .classic_models import (
    FEATURES,
    ML_OPSET,
    Factory,
    _entry,
    _sk,
    _sklearn,
    training_data,
)
from .entry import FeedSpec, ModelEntry

LABELS = ("bronze", "silver", "gold", "platinum")  # string classes for classlabels_strings
KEYS = tuple(f"f{i}" for i in range(FEATURES))  # DictVectorizer's feature names
_SKL = ("sklearn", "skl2onnx")


def _dicts(x: np.ndarray, drop: np.ndarray) -> list[dict[str, float]]:
    """Rows as {feature name: value} dicts, leaving out the entries `drop` marks."""
    return [
        {k: float(v) for k, v, d in zip(KEYS, row, skip) if not d} for row, skip in zip(x, drop)
    ]


def dict_feed(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> dict[str, float]:
    """One DictVectorizer input: a dict of some features (a map input is one dict per run)."""
    row = rng.standard_normal(FEATURES).astype(np.float32)
    keep = rng.random(FEATURES) < 0.75
    return {k: float(v) for k, v, kept in zip(KEYS, row, keep) if kept}


def _string_labels(factory: Factory) -> Callable[[Path], None]:
    """A 4-class classifier trained on string labels: ZipMap with classlabels_strings."""

    def build(path: Path) -> None:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType

        x, y = training_data("multi")
        model = factory().fit(x, np.array(LABELS)[y])
        onx = to_onnx(
            model, initial_types=[("x", FloatTensorType([None, FEATURES]))], target_opset=ML_OPSET
        )
        path.write_bytes(onx.SerializeToString())

    return build


def _dict_pipeline(final: Factory) -> Callable[[Path], None]:
    """DictVectorizer, then `final`, on dicts with about a quarter of the features missing."""

    def build(path: Path) -> None:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import DictionaryType, FloatTensorType, StringTensorType
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.pipeline import make_pipeline

        x, y = training_data("multi")
        drop = np.random.default_rng(7).random(x.shape) < 0.25
        model = make_pipeline(DictVectorizer(sparse=False), final()).fit(_dicts(x, drop), y)
        map_type = DictionaryType(StringTensorType([1]), FloatTensorType([1]))
        onx = to_onnx(model, initial_types=[("x", map_type)], target_opset=ML_OPSET)
        path.write_bytes(onx.SerializeToString())

    return build


def _xgboost(task: str) -> Callable[[Path], None]:
    """XGBoost through skl2onnx (onnxmltools' converter registered), which adds the ZipMap
    that onnxmltools' own convert_xgboost has no option for."""

    def build(path: Path) -> None:
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from skl2onnx import to_onnx, update_registered_converter
        from skl2onnx.common.data_types import FloatTensorType
        from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
        from xgboost import XGBClassifier

        update_registered_converter(
            XGBClassifier,
            "XGBoostXGBClassifier",
            calculate_linear_classifier_output_shapes,
            convert_xgboost,
            options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
        )
        x, y = training_data(task)
        model = XGBClassifier(n_estimators=20, max_depth=4, random_state=0).fit(x, y)
        onx = to_onnx(
            model, initial_types=[("x", FloatTensorType([None, FEATURES]))], target_opset=ML_OPSET
        )
        path.write_bytes(onx.SerializeToString())

    return build


def _lightgbm(task: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import onnxmltools
        from lightgbm import LGBMClassifier
        from onnxmltools.convert.common.data_types import FloatTensorType

        x, y = training_data(task)
        model = LGBMClassifier(n_estimators=50, verbose=-1, random_state=0).fit(x, y)
        onx = onnxmltools.convert_lightgbm(
            model,
            initial_types=[("x", FloatTensorType([None, FEATURES]))],
            target_opset=15,
            zipmap=True,
        )
        path.write_bytes(onx.SerializeToString())

    return build


_LOGREG = _sk("sklearn.linear_model", "LogisticRegression", max_iter=500)
_FOREST = _sk(
    "sklearn.ensemble", "RandomForestClassifier", n_estimators=30, max_depth=8, random_state=0
)

# name -> (builder, task, where it comes from, modules it needs)
_MODELS: dict[str, tuple[Callable[[Path], None], str, str, tuple[str, ...]]] = {
    "logreg_multi_zipmap": (_sklearn(_LOGREG, "multi", True), "multi", "skl2onnx LR", _SKL),
    "logreg_strings_zipmap": (
        _string_labels(_LOGREG),
        "multi",
        "skl2onnx LR on string labels",
        _SKL,
    ),
    "random_forest_binary_zipmap": (
        _sklearn(_FOREST, "binary", True),
        "binary",
        "skl2onnx forest",
        _SKL,
    ),
    "random_forest_strings_zipmap": (
        _string_labels(_FOREST),
        "multi",
        "skl2onnx forest on string labels",
        _SKL,
    ),
    "lightgbm_binary_zipmap": (
        _lightgbm("binary"),
        "binary",
        "onnxmltools lightgbm",
        ("lightgbm", "onnxmltools", "sklearn"),
    ),
    "xgboost_binary_zipmap": (
        _xgboost("binary"),
        "binary",
        "skl2onnx + onnxmltools xgboost",
        ("xgboost", "onnxmltools", *_SKL),
    ),
    "xgboost_multi_zipmap": (
        _xgboost("multi"),
        "multi",
        "skl2onnx + onnxmltools xgboost",
        ("xgboost", "onnxmltools", *_SKL),
    ),
    "dictvectorizer_logreg_zipmap": (
        _dict_pipeline(_LOGREG),
        "multi",
        "skl2onnx DictVectorizer + LR pipeline, map(string,float) input",
        _SKL,
    ),
    "dictvectorizer_forest_zipmap": (
        _dict_pipeline(_FOREST),
        "multi",
        "skl2onnx DictVectorizer + forest pipeline, map(string,float) input",
        _SKL,
    ),
}


def zipmap_entries() -> list[ModelEntry]:
    """The ZipMap-on classic models (beside classic_models' first three)."""
    found = []
    for name, (build, task, source, needs) in _MODELS.items():
        entry = _entry(name, build, task, f"{source}, ZipMap on (seq(map) output)", needs)
        if name.startswith("dictvectorizer"):
            entry.feeds = FeedSpec(values={"x": dict_feed})
        found.append(entry)
    return found
