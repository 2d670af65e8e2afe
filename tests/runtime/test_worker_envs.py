"""Worker venvs are run only when they belong to the user and nobody else may write to them."""

from __future__ import annotations

import json
import os
import sys

import pytest

from xinrt.backends.rknn.backend import RknnBackend
from xinrt.worker.client import WorkerError
from xinrt.worker.envs import MARKER, env_trust_problem


@pytest.fixture
def fake_rknn_venv(tmp_path, monkeypatch):
    """An installed-looking rknn venv (marker + interpreter link), no SDK in it."""
    monkeypatch.setenv("XINRT_ENVS_DIR", str(tmp_path / "envs"))
    root = tmp_path / "envs" / "rknn"
    (root / "bin").mkdir(parents=True)
    (root / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    os.symlink(sys.executable, root / "bin" / "python")
    (root / MARKER).write_text(json.dumps({"name": "rknn"}))
    for folder in (tmp_path / "envs", root, root / "bin"):
        os.chmod(folder, 0o755)
    return root


def test_a_venv_of_the_user_is_trusted(fake_rknn_venv):
    assert env_trust_problem("rknn") == ""
    assert [d.kind for d in RknnBackend().devices()] == ["simulator"]


@pytest.mark.parametrize("sub", ["", "bin", "lib/python3.11/site-packages"])
def test_a_venv_writable_by_others_is_refused_with_the_fix(fake_rknn_venv, sub):
    os.chmod(fake_rknn_venv / sub, 0o777)
    problem = env_trust_problem("rknn")
    assert "writable by group or others" in problem and "chmod go-w" in problem
    backend = RknnBackend()
    assert backend.devices() == []
    assert "refusing its worker venv" in backend.unavailable_reason()
    with pytest.raises(WorkerError, match="refusing to start the worker"):
        backend.worker.call("version")
