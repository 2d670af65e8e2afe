"""The shared compile cache: keys, atomic entries, listing, clearing and its CLI."""

from __future__ import annotations

import argparse

import pytest
from onnx import TensorProto, helper

from xinrt import compile_cache
from xinrt.compile_cache import CompileCache, compile_key


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    return tmp_path


def _model(op="Relu"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    return helper.make_model(helper.make_graph([helper.make_node(op, ["x"], ["y"])], "g", [x], [y]))


def test_key_changes_with_each_part():
    base = compile_key(_model(), {"x": [1, 4]}, "2.5.0", "rk3588", "fp16")
    assert base == compile_key(_model(), {"x": [1, 4]}, "2.5.0", "rk3588", "fp16")
    variants = [
        compile_key(_model("Neg"), {"x": [1, 4]}, "2.5.0", "rk3588", "fp16"),
        compile_key(_model(), {"x": [2, 4]}, "2.5.0", "rk3588", "fp16"),
        compile_key(_model(), {"x": [1, 4]}, "2.4.0", "rk3588", "fp16"),
        compile_key(_model(), {"x": [1, 4]}, "2.5.0", "rk3576", "fp16"),
        compile_key(_model(), {"x": [1, 4]}, "2.5.0", "rk3588", "int8"),
        compile_key(_model(), {"x": [1, 4]}, "2.5.0", "rk3588", "int8", "calibration"),
    ]
    assert len({base, *variants}) == 7


def test_put_then_get_and_a_torn_entry_is_a_miss():
    cache = CompileCache("nncase:k230")
    assert cache.get("k1") is None
    cache.put("k1", b"kmodel-bytes", {"precision": "fp32", "compile_s": 12.5})
    data, meta = cache.get("k1")
    assert data == b"kmodel-bytes" and meta["compile_s"] == 12.5 and meta["size_bytes"] == 12
    (cache.folder / "k1.bin").write_bytes(b"short")
    assert cache.get("k1") is None


def test_entries_and_clear_by_backend_keep_worker_envs(isolated_cache):
    CompileCache("rknn:rk3588").put("a", b"1", {"precision": "fp16"})
    CompileCache("nncase:k230").put("b", b"22", {"precision": "fp32"})
    (isolated_cache / "rknn-capability-2.5.0-rk3588.json").write_text("{}")
    (isolated_cache / "envs" / "rknn").mkdir(parents=True)
    assert {e.backend for e in compile_cache.entries()} == {"rknn:rk3588", "nncase:k230"}
    assert [e.key for e in compile_cache.entries("nncase:k230")] == ["b"]
    assert compile_cache.clear("rknn:rk3588") == 3
    assert [e.backend for e in compile_cache.entries()] == ["nncase:k230"]
    compile_cache.clear()
    assert compile_cache.entries() == []
    assert (isolated_cache / "envs" / "rknn").is_dir()


def test_cli_ls_and_clear(capsys):
    CompileCache("example:v1").put("abc", b"xyz", {"precision": "fp16", "compile_s": 1.5})
    parser = argparse.ArgumentParser()
    compile_cache.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cache", "ls"])
    assert args.func(args) == 0
    listing = capsys.readouterr().out
    assert "example:v1" in listing and "fp16" in listing
    args = parser.parse_args(["cache", "clear", "--backend", "example:v1"])
    assert args.func(args) == 0
    assert "removed 2 cached files" in capsys.readouterr().out
