"""Process-wide settings the servers make: uvicorn's body buffering (for the single-process
server and every Ray replica alike, through build_app) and the environment a local Ray
instance of `xinrt serve --ray` starts with. Neither needs a running server or Ray."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from tests.serve.conftest import mlp
from xinrt.serve.ray_main import LOCAL_PERIODS, local_env


def test_build_app_lets_uvicorn_buffer_a_whole_request(
    serve_deps: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kserve.protocol.dataplane import DataPlane
    from uvicorn.protocols.http import h11_impl, httptools_impl

    from xinrt.serve.app import build_app
    from xinrt.serve.repository import XinrtRepository

    for module in (h11_impl, httptools_impl):  # uvicorn's own 64 KiB, whatever ran before
        monkeypatch.setattr(module, "HIGH_WATER_LIMIT", 65536)
    (tmp_path / "m" / "1").mkdir(parents=True)
    onnx.save(mlp(1), str(tmp_path / "m" / "1" / "model.onnx"))
    repository = XinrtRepository(tmp_path, 1, {})
    limit = 3 * 1024 * 1024 + 17
    build_app(repository, DataPlane(model_registry=repository), limit)
    assert h11_impl.HIGH_WATER_LIMIT >= limit
    assert httptools_impl.HIGH_WATER_LIMIT >= limit


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in ("RAY_SERVE_THROUGHPUT_OPTIMIZED", "RAY_SERVE_ENABLE_HA_PROXY", *LOCAL_PERIODS):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_local_ray_gets_the_throughput_preset_and_longer_periods(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = local_env(tmp_path / "h")
    assert env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1"
    assert env["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"] == "0.5"
    assert env["RAY_SERVE_METRICS_EXPORT_INTERVAL_MS"] == "1000"


def test_local_ray_keeps_the_users_own_settings(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("RAY_SERVE_CONTROL_LOOP_INTERVAL_S", "0.1")
    clean_env.setenv("RAY_SERVE_THROUGHPUT_OPTIMIZED", "0")
    clean_env.setenv("RAY_SERVE_ENABLE_HA_PROXY", "0")
    env = local_env(tmp_path / "h")
    assert env["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"] == "0.1"
    assert env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "0"
    assert env["RAY_SERVE_METRICS_EXPORT_INTERVAL_MS"] == "1000"
    assert not any(key.startswith("RAY_SERVE_HAPROXY") for key in env)
    assert "RAY_SERVE_ENABLE_HA_PROXY" not in env
