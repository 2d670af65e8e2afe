"""Native OneHotEncoder and LabelEncoder on `cpu`: numeric categories, keys and values match
onnxruntime on seeded inputs with every node on cpu; string forms are declined (no string
tensors natively)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.backends.cpu.ml_helpers import assert_matches, require, run_both, to_onnx  # noqa: E402

pytest.importorskip("xinrt._native")

NP_TO_ONNX = {
    np.float32: TensorProto.FLOAT,
    np.float64: TensorProto.DOUBLE,
    np.int64: TensorProto.INT64,
}


def one_node(
    op: str, in_type: int, out_type: int, out_shape: list[Any], ml_opset: int, **attrs: Any
) -> bytes:
    node = helper.make_node(op, ["x"], ["y"], domain="ai.onnx.ml", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", in_type, [None, 3])],
        [helper.make_tensor_value_info("y", out_type, out_shape)],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", ml_opset)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


def codes(seed: int, dtype: Any, rows: int = 30) -> np.ndarray:
    """Seeded category codes in -1..6 (some unknown), with fractions for float inputs."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 7, (rows, 3)).astype(dtype)
    if np.issubdtype(np.dtype(dtype), np.floating):
        x[::4, 1] += 0.5  # truncates toward zero, as ORT's cast
        x[::5, 2] = -x[::5, 2] - 0.25
    return x


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_one_hot_encoder_matches_onnxruntime(dtype: Any) -> None:
    model = one_node(
        "OneHotEncoder",
        NP_TO_ONNX[dtype],
        TensorProto.FLOAT,
        [None, 3, 5],
        1,
        cats_int64s=[0, 2, 5, 3, 2],  # a duplicate: the last position wins in ORT
        zeros=1,
    )
    assert_matches(*run_both(model, codes(1, dtype)))


def test_one_hot_encoder_unknown_category_with_zeros_off_is_an_error() -> None:
    from xinrt import InferenceSession, XinrtError

    model = one_node(
        "OneHotEncoder",
        TensorProto.INT64,
        TensorProto.FLOAT,
        [None, 3, 3],
        1,
        cats_int64s=[1, 2, 3],
        zeros=0,
    )
    session = InferenceSession(model, backends=["cpu"])
    ok = np.array([[1, 2, 3]], np.int64)
    np.testing.assert_array_equal(session.run(None, {"x": ok})[0][0], np.eye(3, dtype=np.float32))
    with pytest.raises(XinrtError, match="not a category"):
        session.run(None, {"x": np.array([[1, 9, 3]], np.int64)})


def label_encoder(opset: int, keys: np.ndarray, values: np.ndarray, **extra: Any) -> bytes:
    attrs: dict[str, Any] = dict(extra)
    for name, array in (("keys", keys), ("values", values)):
        kind = "int64s" if array.dtype == np.int64 else "floats"
        attrs[f"{name}_{kind}"] = array.tolist()
    in_type = NP_TO_ONNX[keys.dtype.type]
    out_type = NP_TO_ONNX[values.dtype.type]
    return one_node("LabelEncoder", in_type, out_type, [None, 3], opset, **attrs)


@pytest.mark.parametrize("opset", [2, 3, 4])
@pytest.mark.parametrize("key_type", [np.int64, np.float32])
@pytest.mark.parametrize("value_type", [np.int64, np.float32])
def test_label_encoder_matches_onnxruntime(opset: int, key_type: Any, value_type: Any) -> None:
    keys = np.array([3, 0, 5, -1, 3, 2], key_type)  # a duplicate: the first wins in ORT
    values = np.array([10, 20, 30, 40, 50, 60], value_type)
    x = codes(opset, key_type)
    if key_type == np.float32:
        x[0, 0] = -0.0  # equals the key 0.0
        x[1, 1] = np.nan
    assert_matches(*run_both(label_encoder(opset, keys, values), x))
    with_default = label_encoder(
        opset,
        keys,
        values,
        **({"default_int64": 7} if value_type == np.int64 else {"default_float": 0.5}),
    )
    assert_matches(*run_both(with_default, x))


def test_label_encoder_opset4_tensors_and_nan_key_match_onnxruntime() -> None:
    keys = np.array([1.5, np.nan, 0.0, 2.0], np.float32)
    values = np.array([1, 2, 3, 4], np.int64)
    attrs = {
        "keys_tensor": numpy_helper.from_array(keys, "keys_tensor"),
        "values_tensor": numpy_helper.from_array(values, "values_tensor"),
        "default_tensor": numpy_helper.from_array(np.array([-9], np.int64), "default_tensor"),
    }
    model = one_node("LabelEncoder", TensorProto.FLOAT, TensorProto.INT64, [None, 3], 4, **attrs)
    x = np.array([[1.5, np.nan, -0.0], [2.0, 7.0, np.nan]], np.float32)
    got, want = run_both(model, x)
    assert_matches(got, want)
    np.testing.assert_array_equal(want[0], [[1, 2, 3], [4, -9, 2]])  # NaN finds the NaN key


def declined(model: bytes) -> str:
    from xinrt.backends.cpu import CpuBackend

    graph = ir.from_proto(onnx.load_from_string(model)).graph
    (support,) = CpuBackend().capability(graph).values()
    assert not support.claimed
    return str(support.reason)


def test_string_forms_are_declined() -> None:
    to_strings = one_node(
        "LabelEncoder",
        TensorProto.INT64,
        TensorProto.STRING,
        [None, 3],
        2,
        keys_int64s=[1, 2],
        values_strings=["a", "b"],
    )
    assert "string" in declined(to_strings)
    opset1 = one_node(
        "LabelEncoder",
        TensorProto.INT64,
        TensorProto.STRING,
        [None, 3],
        1,
        classes_strings=["a", "b"],
    )
    assert "string" in declined(opset1)
    int32 = one_node(
        "OneHotEncoder", TensorProto.INT32, TensorProto.FLOAT, [None, 3, 2], 1, cats_int64s=[1, 2]
    )
    assert "int32" in declined(int32)


def test_sklearn_one_hot_pipeline_runs_wholly_on_cpu() -> None:
    require("scikit-learn")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 5)).astype(np.float32)
    x[:, 3:] = rng.integers(0, 4, (120, 2))
    y = (x[:, 0] + x[:, 3] > 1.5).astype(np.int64)
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), [0, 1, 2]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), [3, 4]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=300)).fit(x, y)
    feed = rng.standard_normal((25, 5)).astype(np.float32)
    feed[:, 3:] = rng.integers(0, 5, (25, 2))  # 4 is an unknown category
    assert_matches(*run_both(to_onnx(model, x), feed))
