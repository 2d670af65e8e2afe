"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from xinrt.worker.client import Worker


@pytest.fixture
def worker(tmp_path, request) -> Iterator[Worker]:
    """A worker process serving the fake SDK adapter that the test module defines as ADAPTER."""
    path = tmp_path / "fake_adapter.py"
    path.write_text(request.module.ADAPTER)
    worker = Worker("fakesdk", sys.executable, path)
    yield worker
    worker.close()
