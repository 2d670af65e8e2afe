"""The `example` backend registered for one test, as pyproject registers it once installed."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from xinrt import backend as backend_module
from xinrt.backends.example.backend import ExampleBackend

ENTRY = metadata.EntryPoint("example", "xinrt.backends.example.backend:ExampleBackend", "x")


def registered_example(monkeypatch: pytest.MonkeyPatch, cache: Path) -> Iterator[None]:
    """For a fixture to `yield from`: `example` registered, with `cache` as the cache folder;
    afterwards its worker closed and the backend instances forgotten."""
    monkeypatch.setenv("XINRT_CACHE_DIR", str(cache))
    real = backend_module._entry_points()
    monkeypatch.setattr(backend_module, "_entry_points", lambda: {**real, "example": ENTRY})
    backend_module.get_backend.cache_clear()
    yield
    backend = backend_module.get_backend("example")
    if isinstance(backend, ExampleBackend) and backend._worker is not None:
        backend._worker.close()
    backend_module.get_backend.cache_clear()
