"""A vendor backend is backends/<name>/{__init__,backend,rules,worker}.py and nothing else."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from xinrt.worker.backend import WorkerBackend
from xinrt.worker.envs import EnvSpec

BACKENDS = Path(__file__).resolve().parents[2] / "backends"
LAYOUT = {"__init__.py", "backend.py", "rules.py", "worker.py"}
STAND_INS = {"example": {"fake_sdk.py"}}  # the fake vendor SDK CI runs the template on


@pytest.mark.parametrize("name", ["example", "nncase", "rknn"])
def test_a_vendor_backend_is_four_files_with_its_shared_parts_in_worker_backend(name):
    folder = BACKENDS / name
    files = {p.name for p in folder.iterdir() if p.name != "__pycache__"}
    assert files == LAYOUT | STAND_INS.get(name, set())
    package = importlib.import_module(f"xinrt.backends.{name}")
    (cls,) = [getattr(package, n) for n in package.__all__]
    assert issubclass(cls, WorkerBackend) and isinstance(cls.env_spec, EnvSpec)
    assert not hasattr(cls, "worker_env")  # one env spec, read by the CLI and the backend
    assert cls.adapter_path == Path(importlib.import_module(cls.__module__).__file__).with_name(
        "worker.py"
    )
    rules = importlib.import_module(f"xinrt.backends.{name}.rules")
    assert callable(rules.node_rule)
