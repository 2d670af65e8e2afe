"""A server with a long batching window: concurrent requests share batches (and each gets its
own rows), /metrics counts them, a failing execution is a 500 that leaves the server up, and
SIGTERM lets a queued request finish before the process exits."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.serve.conftest import Server, binary_body, mlp, post, reference, start_server

WINDOW_US = 500_000  # a batch waits this long to fill: long enough to gather every request


@pytest.fixture(scope="module")
def slow_server(serve_deps: None, repo: Path) -> Iterator[Server]:
    running = start_server(repo, "--replicas", "1", "--max-queue-delay-us", str(WINDOW_US))
    yield running
    assert running.stop() == 0


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _get(server: Server, path: str) -> str:
    import http.client

    host, port = server.http.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def _infer_many(server: Server, inputs: list[np.ndarray]) -> list[np.ndarray]:
    results: list = [None] * len(inputs)

    def one(i: int) -> None:
        status, body, headers = post(server, "/v2/models/mlp/infer", *binary_body(inputs[i]))
        assert status == 200, body
        length = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
        results[i] = np.frombuffer(body[length:], np.float32).reshape(inputs[i].shape[0], 4)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_requests_share_a_batch_and_get_their_own_rows(slow_server: Server) -> None:
    rng = np.random.default_rng(11)
    inputs = [rng.standard_normal((rows, 8)).astype(np.float32) for rows in (1, 2, 1, 3)]
    before = _get(slow_server, "/metrics")
    results = _infer_many(slow_server, inputs)
    for x, y in zip(inputs, results):
        np.testing.assert_allclose(y, reference(mlp(2), x), rtol=1e-5, atol=1e-6)
    after = _get(slow_server, "/metrics")
    labels = {"model": "mlp", "version": "2"}
    requests = _metric(after, "xinrt_inference_requests_total", **labels) - _metric(
        before, "xinrt_inference_requests_total", **labels
    )
    executions = _metric(after, "xinrt_inference_executions_total", **labels) - _metric(
        before, "xinrt_inference_executions_total", **labels
    )
    rows = _metric(after, "xinrt_batch_size_sum", **labels) - _metric(
        before, "xinrt_batch_size_sum", **labels
    )
    assert requests == 4 and rows == 7
    assert executions < 4  # at least two requests shared a batch within the window
    for name in ("xinrt_queue_seconds_count", "xinrt_compute_seconds_count"):
        assert _metric(after, name, **labels) >= executions
    assert re.search(r'xinrt_inference_requests_total\{backend="[a-z+]+"', after)


def test_execution_failure_is_500_and_the_server_stays_up(server: Server) -> None:
    x = np.ones((2, 8), np.float32)

    def request(shape: list[int]) -> tuple[int, dict]:
        body = json.dumps(
            {
                "inputs": [
                    {"name": "x", "shape": [2, 8], "datatype": "FP32", "data": x.ravel().tolist()},
                    {"name": "shape", "shape": [2], "datatype": "INT64", "data": shape},
                ]
            }
        ).encode()
        status, answer, _ = post(server, "/v2/models/broken/infer", body)
        return status, json.loads(answer)

    failures = _metric(
        _get(server, "/metrics"),
        "xinrt_inference_failures_total",
        model="broken",
        reason="execution",
    )
    status, answer = request([3, 5])  # 16 values cannot become 3x5
    assert status == 500, answer
    assert "broken" in answer["error"]
    status, answer = request([4, 4])
    assert status == 200, answer
    np.testing.assert_array_equal(np.asarray(answer["outputs"][0]["data"]), x.ravel())
    assert (
        _metric(
            _get(server, "/metrics"),
            "xinrt_inference_failures_total",
            model="broken",
            reason="execution",
        )
        == failures + 1
    )


def test_sigterm_finishes_the_queued_request_then_exits(slow_server: Server) -> None:
    """Last in this file: it stops the module's server."""
    server = slow_server
    x = np.random.default_rng(12).standard_normal((1, 8)).astype(np.float32)
    results: list = []
    thread = threading.Thread(target=lambda: results.extend(_infer_many(server, [x])))
    thread.start()
    counted = _metric(_get(server, "/metrics"), "xinrt_inference_requests_total", model="mlp")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until the request waits in the batching window
        metrics = _get(server, "/metrics")
        if _metric(metrics, "xinrt_inference_requests_total", model="mlp") > counted:
            break
        time.sleep(0.01)
    os.kill(server.process.pid, signal.SIGTERM)
    thread.join(timeout=60)
    assert server.process.wait(timeout=30) == 0
    assert len(results) == 1
    np.testing.assert_allclose(results[0], reference(mlp(2), x), rtol=1e-5, atol=1e-6)


def test_workers_share_the_ports_and_stop_together(serve_deps: None, repo: Path) -> None:
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    server = start_server(
        repo,
        "--workers",
        "2",
        "--port",
        str(ports[0]),
        "--grpc-port",
        str(ports[1]),
        "--replicas",
        "1",
    )
    try:
        assert "workers=2" in server.ready_line
        children = _children(server.process.pid)
        assert len(children) == 2
        x = np.random.default_rng(13).standard_normal((2, 8)).astype(np.float32)
        for y in _infer_many(server, [x] * 4):  # new connections: the kernel spreads them
            np.testing.assert_allclose(y, reference(mlp(2), x), rtol=1e-5, atol=1e-6)
    finally:
        assert server.stop() == 0
    assert all(not Path(f"/proc/{pid}").exists() for pid in children)


def _children(pid: int) -> list[int]:
    """The worker processes a parent started (multiprocessing's spawn_main children)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        parent = stat.rsplit(")", 1)[1].split()[1]  # field 4, after the command name
        if parent == str(pid) and b"spawn_main" in command:
            found.append(int(proc.name))
    return found


START_WITHOUT_GC = """
import gc, os, signal, sys, threading, time, urllib.request
from xinrt.cli import main
from xinrt.serve.repository import XinrtRepository

states = {}
build = XinrtRepository.build

def recording(self, name):
    states["loading"] = gc.isenabled()
    return build(self, name)

XinrtRepository.build = recording

def stop_when_ready(port):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1):
                break
        except OSError:
            time.sleep(0.02)
    states["ready"] = gc.isenabled()
    os.kill(os.getpid(), signal.SIGTERM)

repo, http, grpc = sys.argv[1:]
threading.Thread(target=stop_when_ready, args=(http,), daemon=True).start()
code = main(["serve", repo, "--port", http, "--grpc-port", grpc, "--replicas", "1"])
print("exit", code, "collector while loading", states["loading"], "when ready", states["ready"])
"""


def test_the_cyclic_collector_is_off_while_starting_and_on_when_ready(
    serve_deps: None, repo: Path
) -> None:
    """Start-up time: `xinrt serve` loads its models with the cyclic garbage collector off,
    and serves with it on."""
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(str(s.getsockname()[1]))
    done = subprocess.run(
        [sys.executable, "-c", START_WITHOUT_GC, str(repo), *ports],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last == "exit 0 collector while loading False when ready True"
