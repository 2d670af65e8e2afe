"""Unmodified tritonclient (HTTP binary, HTTP JSON without Content-Type, gRPC) against `xinrt
serve`, the client in its own process (tests/serve/triton_client.py); answers match ORT."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.serve.conftest import Server, mlp, reference

CLIENT = Path(__file__).with_name("triton_client.py")


@pytest.fixture(scope="module")
def seen(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the client saw, and the input it sent."""
    folder = tmp_path_factory.mktemp("client")
    x = np.random.default_rng(21).standard_normal((3, 8)).astype(np.float32)
    np.save(folder / "x.npy", x)
    done = subprocess.run(
        [
            sys.executable,
            str(CLIENT),
            server.http,
            server.grpc,
            "mlp",
            str(folder / "x.npy"),
            str(folder / "seen.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((folder / "seen.json").read_text())
    result["x"] = x
    return result


def _close(values: Any, expected: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(values, np.float32), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_health_and_metadata(seen: dict[str, Any], protocol: str) -> None:
    s = seen[protocol]
    assert s["live"] and s["ready"] and s["model_ready"]
    assert "binary_tensor_data" in s["server_metadata"]["extensions"]
    meta = s["model_metadata"]
    assert meta["name"] == "mlp" and sorted(meta["versions"]) == ["1", "2"]
    assert meta["inputs"][0]["name"] == "x" and meta["inputs"][0]["datatype"] == "FP32"
    assert [int(d) for d in meta["inputs"][0]["shape"]] == [-1, 8]
    assert [int(d) for d in meta["outputs"][0]["shape"]] == [-1, 4]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_model_config_in_triton_form(seen: dict[str, Any], protocol: str) -> None:
    config = seen[protocol]["model_config"]
    config = config.get("config", config)  # gRPC wraps it in {"config": ...}
    assert config["name"] == "mlp" and int(config["max_batch_size"]) == 8
    assert config["input"][0]["name"] == "x" and config["input"][0]["data_type"] == "TYPE_FP32"
    assert [int(d) for d in config["input"][0]["dims"]] == [8]  # batch dim left out, as Triton
    assert [int(d) for d in config["output"][0]["dims"]] == [4]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_repository_index_lists_every_version(seen: dict[str, Any], protocol: str) -> None:
    index = seen[protocol]["index"]
    index = index.get("models", index) if isinstance(index, dict) else index
    states = {(e["name"], e.get("version")): e.get("state") for e in index}
    assert states[("mlp", "1")] == "READY" and states[("mlp", "2")] == "READY"
    assert states[("latest", "3")] == "READY" and states[("latest", "1")] == "UNAVAILABLE"


def test_http_infer_binary_json_and_default_match_ort(seen: dict[str, Any]) -> None:
    x, s = seen["x"], seen["http"]
    for mode in ("infer_binary", "infer_json", "infer_default", "infer_after_load"):
        _close(s[mode], reference(mlp(2), x))
    _close(s["infer_v1"], reference(mlp(1), x))


def test_grpc_infer_matches_ort(seen: dict[str, Any]) -> None:
    x, s = seen["x"], seen["grpc"]
    _close(s["infer"], reference(mlp(2), x))
    _close(s["infer_after_load"], reference(mlp(2), x))
    _close(s["infer_v1"], reference(mlp(1), x))


def test_errors_reach_the_client_with_status_and_reason(seen: dict[str, Any]) -> None:
    http, grpc = seen["http"], seen["grpc"]
    assert http["wrong_dtype"]["status"] == "400" and "wants FP32" in http["wrong_dtype"]["message"]
    assert http["unknown_model"]["status"] == "404"
    assert http["unknown_version"]["status"] == "404"
    assert grpc["wrong_shape"]["status"] == "StatusCode.INVALID_ARGUMENT"
    assert "dim 1 must be 8" in grpc["wrong_shape"]["message"]
    assert grpc["unknown_model"]["status"] == "StatusCode.NOT_FOUND"
    assert grpc["too_large"]["status"] == "StatusCode.RESOURCE_EXHAUSTED"


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_unload_then_load(seen: dict[str, Any], protocol: str) -> None:
    s = seen[protocol]
    assert s["unload"]["status"] == "no error" and s["load"]["status"] == "no error"
    assert s["ready_after_unload"] is False
    if protocol == "http":
        assert s["infer_after_unload"]["status"] == "404"
