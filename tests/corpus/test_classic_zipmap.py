"""The ZipMap-on classic models: the asked-for kinds are there, and a DictVectorizer pipeline
builds, gets a dict feed and matches ORT wholly on cpu (lists of dicts compared)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from xinrt.corpus.check import CONFIGS, check_config, ort_outputs
from xinrt.corpus.classic_zipmap import KEYS, zipmap_entries
from xinrt.corpus.feeds import make_feeds
from xinrt.corpus.registry import entries

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "backends", "cpu"))
from ml_helpers import require  # noqa: E402


def test_zipmap_section_covers_linear_forest_boosters_and_dict_pipelines():
    names = {e.name for e in zipmap_entries()}
    for kind in ("logreg", "random_forest", "lightgbm", "xgboost", "dictvectorizer"):
        assert any(kind in n for n in names), kind
    assert all(n.startswith("classic_") and n.endswith("_zipmap") for n in names)
    assert names <= {e.name for e in entries()}  # registered


def test_dict_pipeline_gets_a_seeded_dict_feed_and_matches_ort_on_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("scikit-learn")
    require("skl2onnx")
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("XINRT_CORPUS_DIR", str(tmp_path))
    entry = next(e for e in zipmap_entries() if e.name == "classic_dictvectorizer_logreg_zipmap")
    entry.builder(entry.path)
    feeds = make_feeds(entry.path, entry.feeds, seed=3)
    assert isinstance(feeds["x"], dict) and set(feeds["x"]) <= set(KEYS) and feeds["x"]
    assert feeds == make_feeds(entry.path, entry.feeds, seed=3)
    expected = ort_outputs(str(entry.path), feeds)
    assert isinstance(expected[1], list) and isinstance(expected[1][0], dict)
    record = check_config(entry, "cpu", feeds, expected, threads=(), iterations=1)
    assert record["status"] == "ok", record
    assert record["placement"]["nodes"] == {"cpu": 5}
    assert CONFIGS["cpu"] == ["cpu"]
