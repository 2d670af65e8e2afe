"""Map feeds: dicts as ORT takes them, and an InvalidInputError naming the input otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper

from xinrt.errors import InvalidInputError
from xinrt.map_feeds import check_map_feed


def _map(key: int, value: int) -> onnx.TypeProto:
    return helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))


def test_a_float_map_holds_float32_values_as_python_floats() -> None:
    values = np.random.default_rng(0).standard_normal(3)
    fed = {"a": values[0], "b": float(values[1]), "c": 7}
    got = check_map_feed("x", fed, _map(T.STRING, T.FLOAT))
    assert got == {
        "a": float(np.float32(values[0])),
        "b": float(np.float32(values[1])),
        "c": 7.0,
    }
    assert all(type(v) is float for v in got.values())


def test_integer_keys_and_values_and_sequences_of_maps() -> None:
    got = check_map_feed("x", {np.int64(3): 2, 1: np.int32(-4)}, _map(T.INT64, T.INT64))
    assert got == {3: 2, 1: -4} and all(type(k) is int for k in got)
    seq = helper.make_sequence_type_proto(_map(T.INT64, T.DOUBLE))
    assert check_map_feed("x", [{1: 0.5}, {}], seq) == [{1: 0.5}, {}]


@pytest.mark.parametrize(
    ("feed", "type_proto", "message"),
    [
        (np.zeros(3, np.float32), _map(T.STRING, T.FLOAT), r"'x'.*expected a dict.*numpy array"),
        ([1.0, 2.0], _map(T.STRING, T.FLOAT), r"'x'.*expected a dict.*list"),
        ({1: 2.0}, _map(T.STRING, T.FLOAT), r"'x'.*key 1 \(int\).*keys must be str"),
        ({"a": 2.0}, _map(T.INT64, T.FLOAT), r"'x'.*key 'a'.*keys must be int"),
        ({True: 2.0}, _map(T.INT64, T.FLOAT), r"'x'.*key True"),
        ({"a": "text"}, _map(T.STRING, T.FLOAT), r"'x'.*value 'text'.*at key 'a'"),
        ({"a": 1.5}, _map(T.STRING, T.INT64), r"'x'.*value 1.5"),
        ({"a": None}, _map(T.STRING, T.DOUBLE), r"'x'.*value None"),
        ({1: 2.0}, helper.make_sequence_type_proto(_map(T.INT64, T.FLOAT)), r"list of dicts"),
        ([{1: "s"}], helper.make_sequence_type_proto(_map(T.INT64, T.FLOAT)), r"'x\[0\]'"),
    ],
)
def test_bad_map_feeds_are_invalid_input_errors_naming_the_input(
    feed: Any, type_proto: onnx.TypeProto, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_map_feed("x", feed, type_proto)
