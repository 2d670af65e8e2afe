"""The shared compile cache: keys, atomic entries, listing, clearing and its CLI."""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import stat

import pytest
from onnx import TensorProto, helper

from xinrt import cache as cache_module
from xinrt import compile_cache
from xinrt.cache import JsonCache
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


def test_an_entry_whose_bytes_changed_is_dropped_on_the_next_get():
    cache = CompileCache("example:v1")
    cache.put("k", b"artifact-bytes", {"precision": "fp32"})
    assert cache.get("k")[1]["sha256"] == hashlib.sha256(b"artifact-bytes").hexdigest()
    (cache.folder / "k.bin").write_bytes(b"artifact-BYTES")  # same size, other bytes
    assert cache.get("k") is None
    assert not (cache.folder / "k.bin").exists() and not (cache.folder / "k.json").exists()


def test_an_entry_without_a_recorded_hash_is_not_trusted():
    cache = CompileCache("example:v1")
    cache.put("k", b"abc", {})
    meta = json.loads((cache.folder / "k.json").read_text())
    del meta["sha256"]
    (cache.folder / "k.json").write_text(json.dumps(meta))
    assert cache.get("k") is None


def test_a_full_disk_leaves_no_temporary_or_half_entry(monkeypatch, isolated_cache):
    def full(handle, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_module, "write_bytes", full)
    cache = CompileCache("example:v1")
    cache.put("k", b"abc", {})
    assert cache.get("k") is None
    assert [p for p in isolated_cache.rglob("*") if p.is_file()] == []
    json_cache = JsonCache("probe")
    json_cache.put("a", "b")
    json_cache.flush()
    assert [p for p in isolated_cache.rglob("*") if p.is_file()] == []


def test_a_cache_folder_writable_by_others_is_neither_read_nor_written(isolated_cache):
    cache = CompileCache("example:v1")
    cache.put("k", b"abc", {})
    os.chmod(cache.folder, 0o775)
    cache_module._warned.clear()
    with pytest.warns(RuntimeWarning, match="writable by group or others.*chmod go-w"):
        assert cache.get("k") is None
    cache.put("k2", b"abc", {})
    assert not (cache.folder / "k2.bin").exists()
    os.chmod(cache.folder, 0o700)
    assert cache.get("k")[0] == b"abc"


def test_new_cache_folders_are_private(isolated_cache):
    CompileCache("example:v1").put("k", b"abc", {})
    for folder in (isolated_cache / "compiled", isolated_cache / "compiled" / "example_v1"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_damaged_metadata_is_skipped_not_raised(isolated_cache):
    CompileCache("example:v1").put("good", b"abc", {})
    folder = isolated_cache / "compiled" / "example_v1"
    (folder / "list.json").write_text("[1, 2]")
    (folder / "size.json").write_text('{"size_bytes": "many"}')
    (isolated_cache / "probe.json").write_text('["not", "a", "map"]')
    assert [e.key for e in compile_cache.entries()] == ["good"]
    assert CompileCache("example:v1").get("list") is None
    assert JsonCache("probe").get("not") is None
