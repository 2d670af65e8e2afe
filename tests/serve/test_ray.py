"""`xinrt serve --ray` on a two-node Ray cluster on loopback (127.0.0.2 and 127.0.0.3, one CPU
each): replicas spread one per node and placed by Ray resources, tritonclient's answers match
ONNX Runtime, a model with two replica kinds uses both, an autoscaled model goes from one replica
to two under load and back, and killing the second node's raylet under load loses no request
(the client retries what failed) while the replica comes back when the node rejoins. Every
process is stopped by PID; Ray's files stay in the test's folder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.serve.conftest import mlp, reference
from tests.serve.ray_cluster import Cluster, Node, cpu_seconds, free_port

pytestmark = pytest.mark.ray

HERE = Path(__file__).parent
CLIENT = HERE / "ray_client.py"
HETERO = """replicas:
  - {backends: [cpu], count: 1, num_cpus: 0}
  - {backends: [ort], count: 1, num_cpus: 0, resources: {npu_fake: 1}}
"""
# Scales on the queue: each request waits up to 20 ms for its batch to fill, so a few clients
# keep requests in flight; Ray's defaults (10 s metric pushes, 30 s window, 30 s up / 600 s
# down delays) are shortened to keep the test short. Both replicas go to the head node: Ray's
# proxy (there) sends requests to replicas on its own node while they take them (below their
# max_ongoing_requests), so a second replica on the other node would get none at this load.
AUTO = """backends: [cpu]
num_cpus: 0
resources: {head_node: 1}
threads: 1
max_queue_delay_us: 20000
autoscaling: {min_replicas: 1, max_replicas: 2, target_ongoing_requests: 2, metrics_interval_s: 0.5,
  look_back_period_s: 2, upscale_delay_s: 1, downscale_delay_s: 3}
"""


@pytest.fixture(scope="module")
def ray_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mlp: 2 replicas of 1 CPU (one per node); hetero: a cpu replica and an ort replica that
    needs the resource only the second node has; auto: 1 to 2 replicas by queue length."""
    root = tmp_path_factory.mktemp("ray-repo")
    for name, seed, config in (
        ("mlp", 1, "replicas: 2\nnum_cpus: 1\nthreads: 1\nbackends: [cpu]\n"),
        ("hetero", 5, HETERO),
        ("auto", 7, AUTO),
    ):
        (root / name / "1").mkdir(parents=True)
        onnx.save(mlp(seed), str(root / name / "1" / "model.onnx"))
        (root / name / "config.yaml").write_text(config)
    return root


@pytest.fixture(scope="module")
def cluster(ray_deps: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("ray"))
    try:
        running.start_node("127.0.0.2", resources='{"head_node": 2}')
        running.start_node("127.0.0.3", resources='{"npu_fake": 1}')
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def ray_server(cluster: Cluster, ray_repo: Path) -> Iterator[str]:
    """xinrt serve --ray on the cluster; yields its HTTP address (the gRPC one is in
    grpc_address)."""
    port = free_port()
    command = [sys.executable, "-m", "xinrt.cli", "serve", str(ray_repo), "--port", str(port)]
    command += ["--grpc-port", "0", "--ray", cluster.address]
    log = cluster.folder / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=cluster.env)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"ready in .* http=(\S+) grpc=(\S+)", log.read_text())
            if found:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"xinrt serve --ray did not get ready:\n{log.read_text()[-4000:]}")
        GRPC_ADDRESS[found.group(1)] = found.group(2)
        yield found.group(1)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    assert process.returncode == 0, log.read_text()[-4000:]


GRPC_ADDRESS: dict[str, str] = {}  # the server's HTTP address -> its gRPC address


def _client(folder: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(CLIENT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what}")


def _one_replica_each(nodes: list[Node], deployment: str) -> bool:
    return all(len(node.replicas(deployment)) == 1 for node in nodes)


def test_replica_kinds_become_deployments_with_their_ray_options(ray_deps: None) -> None:
    """Ray validates the options when they are set: autoscaling keys, resources, counts."""
    from ray.serve.config import AutoscalingConfig

    from xinrt.serve.config import _AUTOSCALING_KEYS, parse_config
    from xinrt.serve.ray_deploy import model_app

    deprecated = {"smoothing_factor", "upscale_smoothing_factor", "downscale_smoothing_factor"}
    # every key Ray takes, but a custom policy class
    assert set(_AUTOSCALING_KEYS) == set(AutoscalingConfig.model_fields) - deprecated - {"policy"}

    scaling = {"min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 2}
    kinds = [
        {"backends": ["cpu"], "autoscaling": scaling, "threads": 2},
        {"backends": ["ort"], "count": 2, "num_cpus": 0, "resources": {"npu_fake": 1}},
    ]
    app = model_app(Path("repo"), "m", parse_config({"replicas": kinds}, "t"), 1.0)
    front = app.app._bound_deployment
    assert (app.route_prefix, front.name, front.ray_actor_options) == (
        "/v2/models/m",
        "m-front",
        {"num_cpus": 0},
    )
    cpu, ort = (h._bound_deployment for h in front.init_args[2].values())
    assert cpu._deployment_config.autoscaling_config.max_replicas == 3
    assert cpu.init_args[2]["threads"] == 2 and cpu.init_args[2]["backends"] == ("cpu",)
    assert (ort.name, ort.num_replicas, ort.ray_actor_options["resources"]) == (
        "m-ort",
        2,
        {"npu_fake": 1},
    )
    assert front.init_args[3] == {"cpu": 1, "ort": 2}  # replicas each kind counts on
    single = model_app(Path("repo"), "s", parse_config({"replicas": 2, "num_cpus": 2}, "t"), 1.0)
    deployment = single.app._bound_deployment
    assert (deployment.name, deployment.num_replicas) == ("s", 2)
    assert deployment.ray_actor_options["num_cpus"] == 2 and deployment.init_args[2]["threads"] == 2


def test_replicas_spread_and_answer_like_onnxruntime(
    cluster: Cluster, ray_server: str, tmp_path: Path
) -> None:
    head, second = cluster.nodes
    _wait_for(lambda: _one_replica_each([head, second], "mlp:mlp"), 60, "one mlp replica a node")
    assert second.replicas("hetero:hetero-ort") and not head.replicas("hetero:hetero-ort")
    x = np.random.default_rng(3).standard_normal((3, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    _client(tmp_path, "check", ray_server, "out.json", "mlp", "x.npy", "hetero", "x.npy")
    seen = json.loads((tmp_path / "out.json").read_text())
    assert seen["live"] and seen["ready"]
    for model, seed in (("mlp", 1), ("hetero", 5)):
        assert seen[model]["ready"]
        for mode in ("binary", "json"):
            np.testing.assert_allclose(
                np.asarray(seen[model][mode], np.float32),
                reference(mlp(seed), x),
                rtol=1e-5,
                atol=1e-6,
                err_msg=f"{model} {mode}",
            )


def test_a_model_with_two_replica_kinds_uses_both(
    cluster: Cluster, ray_server: str, tmp_path: Path
) -> None:
    head, second = cluster.nodes
    kinds = {
        "cpu": head.replicas("hetero:hetero-cpu") + second.replicas("hetero:hetero-cpu"),
        "ort": second.replicas("hetero:hetero-ort"),
    }
    assert all(len(pids) == 1 for pids in kinds.values()), kinds
    before = {kind: cpu_seconds(pids[0]) for kind, pids in kinds.items()}
    x = np.random.default_rng(4).standard_normal((1, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", reference(mlp(5), x))
    _client(tmp_path, "load", ray_server, "hetero", "x.npy", "expected.npy", "60", "4",
            "progress", "out.json")  # fmt: skip
    load = json.loads((tmp_path / "out.json").read_text())
    assert load["done"] == 60 and load["lost"] == 0 and load["failed_tries"] == 0, load
    assert load["max_diff"] <= 1e-5, load
    used = {kind: cpu_seconds(pids[0]) - before[kind] for kind, pids in kinds.items()}
    assert all(seconds > 0 for seconds in used.values()), used


def _metrics(
    server: str, name: str = "xinrt_inference_requests_total", label: str = ""
) -> dict[tuple[str, ...], float]:
    """Samples `name` from the root's /metrics: (model, replica) -> value, or with `label`
    (model, replica's deployment, that label's value) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{server}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    counts: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                replica = sample.labels["replica"]
                if label:
                    key = (sample.labels["model"], replica.split("#")[0], sample.labels[label])
                else:
                    key = (sample.labels["model"], replica)
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def test_grpc_answers_like_onnxruntime_and_metrics_count_every_replica(
    cluster: Cluster, ray_server: str, tmp_path: Path
) -> None:
    """tritonclient gRPC, unchanged, against the server process (which routes by model name
    to the replicas); then /metrics holds each replica's counters, labelled by replica, and
    they add up to at least the requests sent."""
    head, second = cluster.nodes
    _wait_for(lambda: _one_replica_each([head, second], "mlp:mlp"), 60, "one mlp replica a node")
    x = np.random.default_rng(6).standard_normal((2, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    repeat = 12
    _client(tmp_path, "grpc", GRPC_ADDRESS[ray_server], "out.json", str(repeat),
            "mlp", "x.npy", "hetero", "x.npy")  # fmt: skip
    seen = json.loads((tmp_path / "out.json").read_text())
    assert seen["live"] and seen["ready"] and seen["unknown"] == "StatusCode.NOT_FOUND", seen
    for model, seed in (("mlp", 1), ("hetero", 5)):
        assert seen[model]["ready"] and seen[model]["max_batch_size"] == 8
        np.testing.assert_allclose(
            np.asarray(seen[model]["output"], np.float32), reference(mlp(seed), x),
            rtol=1e-5, atol=1e-6, err_msg=model,
        )  # fmt: skip

    def counted() -> bool:
        counts = _metrics(ray_server)
        mlp_replicas = {r for (m, r) in counts if m == "mlp" and r.startswith("mlp#")}
        total = sum(v for (m, r), v in counts.items() if m == "mlp")
        return len(mlp_replicas) == 2 and total >= repeat

    _wait_for(counted, 30, f"/metrics: two mlp replicas counting >= {repeat} requests")
    counts = _metrics(ray_server)
    assert any(m == "hetero" and r.startswith("hetero-front#") for m, r in counts), counts

    def busy() -> dict[tuple[str, ...], float]:
        return _metrics(ray_server, "xinrt_backend_busy_seconds_total", "backend")

    # each replica's busy seconds per backend come along too, from the replicas that run
    # batches (hetero: each kind on its own backend; its front runs none)
    possible = {
        ("mlp", "mlp", "cpu"),
        ("hetero", "hetero-cpu", "cpu"),
        ("hetero", "hetero-ort", "ort"),
    }
    _wait_for(lambda: busy().get(("mlp", "mlp", "cpu"), 0) > 0, 30, "mlp's cpu busy seconds")
    seen = {k: v for k, v in busy().items() if k[0] in ("mlp", "hetero")}
    assert set(seen) <= possible and any(v > 0 for k, v in seen.items() if k[0] == "hetero"), seen


def _start_load(folder: Path, server: str, model: str, concurrency: int, name: str):
    """The client's closed loop, unbounded until `name`.stop exists (see ray_client.py)."""
    return subprocess.Popen(
        [sys.executable, str(CLIENT), "load", server, model, "x.npy", "expected.npy",
         "1000000", str(concurrency), name, f"{name}.json"],
        cwd=folder,
    )  # fmt: skip


def _stop_load(folder: Path, client: subprocess.Popen, name: str) -> dict:
    """End a load started by _start_load; its counts (every started request answered?)."""
    (folder / f"{name}.stop").touch()
    try:
        assert client.wait(timeout=60) == 0
    finally:
        if client.poll() is None:
            os.kill(client.pid, signal.SIGKILL)
            client.wait(timeout=10)
    load = json.loads((folder / f"{name}.json").read_text())
    assert load["done"] == load["next"] > 0 and load["lost"] == 0, load
    assert load["failed_tries"] == 0 and load["max_diff"] <= 1e-5, load
    return load


def test_autoscaling_adds_a_replica_under_load_and_removes_it_when_load_drops(
    cluster: Cluster, ray_server: str, tmp_path: Path
) -> None:
    """6 clients keep up to 6 requests in flight (target 2 per replica, at most 2 replicas):
    a second replica starts and serves; then 1 client (at most 1 in flight, half the target of
    one replica): back to one replica. No request fails throughout."""

    def replicas() -> list[int]:
        return [pid for node in cluster.nodes for pid in node.replicas("auto:auto")]

    def serving() -> set[str]:
        return {r for (m, r), v in _metrics(ray_server).items() if m == "auto" and v > 0}

    _wait_for(lambda: len(replicas()) == 1, 60, "one auto replica before the load")
    x = np.random.default_rng(8).standard_normal((1, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", reference(mlp(7), x))
    started = time.monotonic()
    busy = _start_load(tmp_path, ray_server, "auto", 6, "busy")
    try:
        _wait_for(lambda: len(replicas()) == 2, 60, "a second auto replica under load")
        up_s = time.monotonic() - started
        _wait_for(lambda: len(serving()) == 2, 30, "both auto replicas answering requests")
    finally:
        heavy = _stop_load(tmp_path, busy, "busy")
    started = time.monotonic()
    light = _start_load(tmp_path, ray_server, "auto", 1, "light")
    try:
        _wait_for(lambda: len(replicas()) == 1, 90, "back to one auto replica at 1 client")
        down_s = time.monotonic() - started
        time.sleep(1.0)  # requests keep going to the replica that stayed
    finally:
        trickle = _stop_load(tmp_path, light, "light")
    print(f"autoscaling: 2 replicas {up_s:.1f} s into 6 clients ({heavy['done']} requests), "
          f"1 replica {down_s:.1f} s into 1 client ({trickle['done']} requests)")  # fmt: skip


def test_killing_a_node_loses_no_request_and_its_replica_comes_back(
    cluster: Cluster, ray_server: str, tmp_path: Path
) -> None:
    head, second = cluster.nodes
    _wait_for(lambda: _one_replica_each([head, second], "mlp:mlp"), 60, "one mlp replica a node")
    x = np.random.default_rng(5).standard_normal((2, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", reference(mlp(1), x))
    progress = tmp_path / "progress"
    total = 600

    def answered() -> int:
        return int(progress.read_text() or 0) if progress.exists() else 0

    client = subprocess.Popen(
        [sys.executable, str(CLIENT), "load", ray_server, "mlp", "x.npy", "expected.npy",
         str(total), "4", str(progress), "out.json"],
        cwd=tmp_path,
    )  # fmt: skip
    try:
        _wait_for(lambda: answered() >= 40, 90, "40 requests answered before the kill")
        second.processes()
        os.kill(second.raylet(), signal.SIGKILL)  # the node is gone (its `ray start` stops)
        at_kill = answered()
        second.process.wait(timeout=60)
        _wait_for(lambda: not second.replicas("mlp:mlp"), 30, "the node's replica gone")
        node_gone = answered()
        assert client.wait(timeout=240) == 0
        assert node_gone < total, "the load ended before the node was gone: make it longer"
    finally:
        if client.poll() is None:
            os.kill(client.pid, signal.SIGKILL)
            client.wait(timeout=10)
        second.stop()  # leftovers of the killed node, by PID
    load = json.loads((tmp_path / "out.json").read_text())
    print(f"raylet killed after {at_kill} answers, node gone after {node_gone}: {load}")
    assert load["done"] == total and load["lost"] == 0, load
    assert load["max_diff"] <= 1e-5, load
    assert head.replicas("mlp:mlp"), "the head's replica kept serving"
    rejoined = cluster.start_node("127.0.0.3", resources='{"npu_fake": 1}')
    _wait_for(lambda: len(rejoined.replicas("mlp:mlp")) == 1, 120, "the replica back on 127.0.0.3")
    _wait_for(lambda: bool(rejoined.replicas("hetero:hetero-ort")), 60, "hetero-ort back too")
    _client(tmp_path, "check", ray_server, "after.json", "mlp", "x.npy")
    after = json.loads((tmp_path / "after.json").read_text())
    np.testing.assert_allclose(
        np.asarray(after["mlp"]["binary"], np.float32), reference(mlp(1), x), rtol=1e-5, atol=1e-6
    )
