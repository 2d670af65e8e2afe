"""Fixtures for `xinrt serve`: the `serve` and `serve-test` extras (installed here when missing),
model repositories built with onnx.helper, and servers started on loopback and stopped by PID."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = (
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "Name or service not known",
    "ConnectTimeout",
    "ProxyError",
    "Could not fetch URL",
)


def _pinned(extra: str) -> list[str]:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["optional-dependencies"][extra])


def install_extras(*extras: str) -> None:
    """pip-install pyproject's pins of `extras` into this venv (skip: no package index)."""
    requirements = [r for extra in extras for r in _pinned(extra)]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *requirements],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        log = done.stdout + done.stderr
        if any(sign in log for sign in UNREACHABLE):
            pytest.skip(f"the package index is unreachable, cannot install {requirements}")
        pytest.fail(f"pip install {requirements} failed:\n{log[-3000:]}")
    importlib.invalidate_caches()


@pytest.fixture(scope="session")
def serve_deps() -> None:
    """kserve and tritonclient, pip-installed into this venv from pyproject's pins if missing."""
    if not (importlib.util.find_spec("kserve") and importlib.util.find_spec("tritonclient")):
        install_extras("serve", "serve-test")


@pytest.fixture(scope="session")
def ray_deps(serve_deps: None) -> None:
    """Ray Serve (the `serve-ray` extra) as well, installed together with the others so that
    pip resolves them at once (tritonclient and Ray's gRPC reflection disagree on protobuf
    unless kserve's pins take part)."""
    if not importlib.util.find_spec("ray"):
        install_extras("serve", "serve-ray", "serve-test")


def mlp(seed: int) -> onnx.ModelProto:
    """x[N,8] -> MatMul -> Add -> Softmax -> y[N,4], seeded weights."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
        helper.make_node("Add", ["h", "b"], ["z"], name="add"),
        helper.make_node("Softmax", ["z"], ["y"], name="softmax", axis=-1),
    ]
    return make_model(nodes, [tensor("x", ["N", 8])], [tensor("y", ["N", 4])], [w, b])


def reference(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """The model's output by ONNX Runtime, the yardstick of every served answer."""
    import onnxruntime

    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"x": x})[0]


def broken() -> onnx.ModelProto:
    """Reshape x[2,8] to the shape the request sends: a wrong one fails at run time."""
    return make_model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")],
        [tensor("x", [2, 8]), tensor("shape", [2], TensorProto.INT64)],
        [tensor("y", ["a", "b"])],
    )


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mlp versions 1 and 2 (different weights, both served), 'latest' (version 3 only) and
    'broken' (fails at run time on some inputs)."""
    root = tmp_path_factory.mktemp("repo")
    (root / "broken" / "1").mkdir(parents=True)
    onnx.save(broken(), str(root / "broken" / "1" / "model.onnx"))
    for name, versions, config in (
        ("mlp", (1, 2), "versions: all\nmax_batch_size: 8\nreplicas: 1\nthreads: 1\n"),
        ("latest", (1, 3), "replicas: 1\n"),
    ):
        for version in versions:
            folder = root / name / str(version)
            folder.mkdir(parents=True)
            onnx.save(mlp(version), str(folder / "model.onnx"))
        (root / name / "config.yaml").write_text(config)
    return root


@dataclass
class Server:
    process: subprocess.Popen
    http: str
    grpc: str
    ready_line: str

    def stop(self) -> int:
        """SIGTERM by PID, then wait; SIGKILL by PID only if it does not exit in time."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return self.process.returncode


def start_server(
    model: Path, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None
) -> Server:
    """`xinrt serve` (on its default host, loopback) with free ports, `env` added to this
    process's environment; returns once it printed its ready line."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xinrt.cli",
            "serve",
            str(model),
            "--port",
            "0",
            "--grpc-port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + timeout
    seen = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"ready in .* http=(\S+) grpc=(\S+)", line)
        if found:
            # keep reading its output, so that a full pipe never blocks the server
            threading.Thread(target=seen.extend, args=(process.stdout,), daemon=True).start()
            return Server(process, found.group(1), found.group(2), line)
    Server(process, "", "", "").stop()
    raise AssertionError("xinrt serve did not get ready:\n" + "".join(seen[-40:]))


@pytest.fixture(scope="session")
def server(serve_deps: None, repo: Path) -> Iterator[Server]:
    """One server over the test repository, shared by the tests."""
    running = start_server(repo, "--max-request-mb", "1")
    yield running
    assert running.stop() == 0


def post(
    server: Server, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """POST to the server; (status, body, headers)."""
    host, port = server.http.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def binary_body(
    x: np.ndarray,
    datatype: str = "FP32",
    shape: list | None = None,
    size: int | None = None,
    cut: int = 0,
) -> tuple[bytes, dict[str, str]]:
    """A v2 request with one binary input 'x'; shape/size may lie, `cut` bytes go missing."""
    raw = x.tobytes()
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "shape": shape if shape is not None else list(x.shape),
                    "datatype": datatype,
                    "parameters": {"binary_data_size": len(raw) if size is None else size},
                }
            ],
            "outputs": [{"name": "y", "parameters": {"binary_data": True}}],
        }
    ).encode()
    body = header + raw[: len(raw) - cut]
    return body, {"Inference-Header-Content-Length": str(len(header))}
