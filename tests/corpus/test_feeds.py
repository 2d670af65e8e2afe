"""Feeds for corpus models: shapes from the spec and the declared dims, ids inside tables."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt.corpus import FeedSpec
from xinrt.corpus.feeds import constant, make_feeds, zeros


def _embedding_model(path) -> None:
    table = numpy_helper.from_array(np.ones((7, 4), np.float32), "table")
    nodes = [helper.make_node("Gather", ["table", "ids"], ["emb"], name="g")]
    model = make_model(
        nodes,
        [
            tensor("ids", ["batch", "seq"], TensorProto.INT64),
            tensor("x", [2, "?", -1]),
            tensor("sr", [], TensorProto.INT64),
            tensor("state", [3]),
        ],
        [tensor("emb", ["batch", "seq", 4])],
        [table],
    )
    onnx.save(model, path)


def test_feeds_resolve_named_dims_and_unnamed_ones(tmp_path):
    path = tmp_path / "m.onnx"
    _embedding_model(path)
    spec = FeedSpec(
        dims={"batch": 2, "seq": 5}, default_dim=3, values={"sr": constant(16000), "state": zeros}
    )
    feeds = make_feeds(path, spec)
    assert feeds["ids"].shape == (2, 5) and feeds["ids"].dtype == np.int64
    assert feeds["x"].shape == (2, 3, 3) and feeds["x"].dtype == np.float32
    assert feeds["sr"].shape == () and int(feeds["sr"]) == 16000
    assert not feeds["state"].any()


def test_token_ids_stay_inside_the_embedding_table(tmp_path):
    path = tmp_path / "m.onnx"
    _embedding_model(path)
    feeds = make_feeds(path, FeedSpec(dims={"batch": 4, "seq": 64}))
    assert feeds["ids"].max() < 7 and feeds["ids"].min() >= 0


def test_feeds_are_seeded_and_not_constant(tmp_path):
    path = tmp_path / "m.onnx"
    _embedding_model(path)
    spec = FeedSpec(shapes={"x": [2, 8, 8]}, dims={"batch": 1, "seq": 4})
    first, again = make_feeds(path, spec, seed=3), make_feeds(path, spec, seed=3)
    assert feeds_equal(first, again)
    assert first["x"].shape == (2, 8, 8) and first["x"].std() > 0.5
    assert not feeds_equal(first, make_feeds(path, spec, seed=4))


def feeds_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
