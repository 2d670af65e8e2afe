"""What the tests of every SDK-worker backend (rknn, nncase ...) share: skip unless the SDK's
venv is installed (or XINRT_INSTALL_NPU_ENVS=1 installs it), and a private compile cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinrt import backend as backend_module
from xinrt.worker import envs

OPT_IN = os.environ.get("XINRT_INSTALL_NPU_ENVS") == "1"
ENVS_ROOT = envs.envs_root()  # read before any fixture points the cache elsewhere


def skip_unless_installed(sdk: str) -> pytest.MarkDecorator:
    """Skip, with how to fix it, when the SDK's worker venv is missing and not opted in."""
    return pytest.mark.skipif(
        not (ENVS_ROOT / sdk / envs.MARKER).exists() and not OPT_IN,
        reason=f"{sdk}'s worker venv is not installed: run `xinrt backend install {sdk}` "
        "or set XINRT_INSTALL_NPU_ENVS=1",
    )


def ensure_installed(sdk: str, spec: envs.EnvSpec) -> Path:
    """Install the SDK's venv once per test session if it is not there yet."""
    os.environ["XINRT_ENVS_DIR"] = str(ENVS_ROOT)
    if not envs.env_installed(sdk):
        envs.install(spec, quiet=True)
    return ENVS_ROOT


def worker_backends(
    root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> Iterator[None]:
    """Fresh backend instances on a private compile cache; their workers closed afterwards."""
    monkeypatch.setenv("XINRT_ENVS_DIR", str(root))
    monkeypatch.setenv("XINRT_CACHE_DIR", str(cache))
    # These tests check what each NPU backend compiles and runs; "fastest" placement would
    # rightly give the nodes to cpu, faster than a simulator.
    monkeypatch.setenv("XINRT_PLACEMENT", "priority")
    backend_module.get_backend.cache_clear()
    yield
    for name in names:
        worker = getattr(backend_module.get_backend(name), "_worker", None)
        if worker is not None:
            worker.close()
    backend_module.get_backend.cache_clear()
