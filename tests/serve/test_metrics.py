"""/metrics per single backend: a model placed on cpu and ort counts busy seconds for each of
them (within its batches' compute time); a model on one backend counts that backend only."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import numpy as np
import onnx
import pytest
from onnx import helper

from tests.helpers import make_model, tensor
from tests.serve.conftest import Server, binary_body, mlp, post, reference, start_server

BUSY = "xinrt_backend_busy_seconds_total"


def split() -> onnx.ModelProto:
    """x[N,3,3] -> Relu -> Mul -> Det -> Neg -> y[N]: on backends [cpu, ort] with priority
    placement, Det (which the native cpu backend lacks) runs on ort and the rest on cpu."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Mul", ["r", "r"], ["sq"], name="square"),
        helper.make_node("Det", ["sq"], ["d"], name="det"),
        helper.make_node("Neg", ["d"], ["y"], name="neg"),
    ]
    return make_model(nodes, [tensor("x", ["N", 3, 3])], [tensor("y", ["N"])])


@pytest.fixture(scope="module")
def server(serve_deps: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """'split' on backends [cpu, ort] and 'mlp' on xinrt's default list, placed by priority
    (placement "fastest" may put the whole split model on ort, which runs Det too)."""
    root = tmp_path_factory.mktemp("metrics-repo")
    for name, model, config in (
        ("split", split(), "backends: [cpu, ort]\nreplicas: 1\nthreads: 1\n"),
        ("mlp", mlp(2), "replicas: 1\nthreads: 1\n"),
    ):
        (root / name / "1").mkdir(parents=True)
        onnx.save(model, str(root / name / "1" / "model.onnx"))
        (root / name / "config.yaml").write_text(config)
    running = start_server(root, env={"XINRT_PLACEMENT": "priority"})
    yield running
    assert running.stop() == 0


def _samples(server: Server, name: str, model: str) -> dict[str, float]:
    """The samples `name` of `model`, summed over versions, by their backend label."""
    host, port = server.http.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    # Imported here: the serve extras (prometheus_client with kserve) are installed by the
    # serve_deps fixture, after collection.
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("model") == model:
                backend = sample.labels["backend"]
                found[backend] = found.get(backend, 0.0) + sample.value
    return found


def _infer(server: Server, model: str, x: np.ndarray) -> np.ndarray:
    status, body, headers = post(server, f"/v2/models/{model}/infer", *binary_body(x))
    assert status == 200, body
    length = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
    return np.frombuffer(body[length:], np.float32)


def test_a_split_model_counts_busy_seconds_per_backend_within_its_compute_time(
    server: Server,
) -> None:
    compute_before = sum(_samples(server, "xinrt_compute_seconds_sum", "split").values())
    busy_before = _samples(server, BUSY, "split")
    rng = np.random.default_rng(21)
    for rows in (1, 3, 2, 1, 4, 2, 1, 3):
        x = rng.standard_normal((rows, 3, 3)).astype(np.float32)
        np.testing.assert_allclose(_infer(server, "split", x), reference(split(), x), rtol=1e-4,
                                   atol=1e-5)  # fmt: skip
    busy = _samples(server, BUSY, "split")
    compute = sum(_samples(server, "xinrt_compute_seconds_sum", "split").values())
    assert sorted(busy) == ["cpu", "ort"], busy  # each backend on its own, never "cpu+ort"
    grown = {b: busy[b] - busy_before.get(b, 0.0) for b in busy}
    assert all(seconds > 0 for seconds in grown.values()), grown
    # the partitions ran inside their batches' runs
    assert sum(grown.values()) <= compute - compute_before + 1e-4, (grown, compute)
    assert list(_samples(server, "xinrt_inference_requests_total", "split")) == ["cpu+ort"]


def test_a_model_on_one_backend_counts_only_that_backend(server: Server) -> None:
    x = np.random.default_rng(22).standard_normal((2, 8)).astype(np.float32)
    np.testing.assert_allclose(_infer(server, "mlp", x).reshape(2, 4), reference(mlp(2), x),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    (backend,) = _samples(server, "xinrt_inference_requests_total", "mlp")
    busy = _samples(server, BUSY, "mlp")
    assert list(busy) == [backend] and busy[backend] > 0, (backend, busy)
