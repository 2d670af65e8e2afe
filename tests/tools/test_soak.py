"""tools/soak.py at a small size: one session, 16 threads x a few runs mixed with bad feeds,
every good run right, every bad feed an InvalidInputError, no fd or scratch file left over.
(The 16 x 10,000 figures are measured by hand: `python tools/soak.py`.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import xinrt
from xinrt import backend as backend_module

SOAK = Path(__file__).parents[2] / "tools" / "soak.py"


@pytest.fixture
def soak(monkeypatch):
    spec = importlib.util.spec_from_file_location("xinrt_soak_tool", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    real = backend_module._entry_points
    monkeypatch.setattr(backend_module, "_entry_points", real)  # restored after the test
    module.register_example_backend()
    yield module
    backend = backend_module.get_backend("example")
    if backend._worker is not None:
        backend._worker.close()
    backend_module.get_backend.cache_clear()


def test_sixteen_threads_with_bad_feeds_stay_right_and_leak_no_fds(soak):
    options = xinrt.SessionOptions(placement="priority")  # the NPU partitions, not the fastest
    session = xinrt.InferenceSession(soak.soak_model(), options, backends=["example:v1", "cpu"])
    assert [p.backend for p in session.placement.partitions] == ["example:v1", "cpu", "example:v1"]
    soak.soak(session, 16, 8)  # warm-up
    fds, files = soak.open_fds(), soak.scratch_files()
    counts = soak.soak(session, 16, 24)
    assert counts == {"good": 16 * 21, "rejected": 16 * 3, "failures": 0}
    assert soak.open_fds() == fds
    assert soak.scratch_files() == files, "no shared-memory file or log left behind"
