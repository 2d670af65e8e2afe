"""Bad requests get protocol errors with xinrt's text while the server keeps serving; raw HTTP,
so that malformed bodies can be sent at all."""

from __future__ import annotations

import http.client
import json

import numpy as np
import pytest

from tests.serve.conftest import Server, binary_body, mlp, post, reference


def _assert_still_serving(server: Server) -> None:
    x = np.random.default_rng(5).standard_normal((2, 8)).astype(np.float32)
    status, body, headers = post(server, "/v2/models/mlp/infer", *binary_body(x))
    assert status == 200, body
    length = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
    y = np.frombuffer(body[length:], np.float32).reshape(2, 4)
    np.testing.assert_allclose(y, reference(mlp(2), x), rtol=1e-5, atol=1e-6)


X = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)


@pytest.mark.parametrize(
    "case, request_, status, text",
    [
        ("wrong dtype", binary_body(X.astype(np.int32), "INT32"), 400, "wants FP32"),
        ("wrong inner dim", binary_body(X[:, :7].copy(), shape=[2, 7]), 400, "dim 1 must be 8"),
        ("wrong rank", binary_body(X, shape=[16]), 400, "rank"),
        ("truncated binary body", binary_body(X, cut=10), 400, "bytes remain"),
        ("huge declared size", binary_body(X, size=10**12), 400, "binary_data_size"),
        ("huge declared shape", binary_body(X, shape=[10**9, 8]), 400, "carries 64 bytes"),
        ("negative dim", binary_body(X, shape=[-2, 8]), 400, "whole numbers"),
        (
            "header longer than body",
            (b"{}", {"Inference-Header-Content-Length": "99"}),
            400,
            "the body has 2 bytes",
        ),
        ("not JSON", (b"\xff\x00garbage", {}), 400, "not v2 JSON"),
        ("JSON without inputs", (b'{"in": []}', {}), 400, "'inputs' list"),
        (
            "JSON data of wrong length",
            (
                json.dumps(
                    {
                        "inputs": [
                            {"name": "x", "shape": [1, 8], "datatype": "FP32", "data": [1.0, 2.0]}
                        ]
                    }
                ).encode(),
                {},
            ),
            400,
            "carries 2 values",
        ),
        (
            "unknown input",
            (
                json.dumps(
                    {
                        "inputs": [
                            {"name": "q", "shape": [1, 8], "datatype": "FP32", "data": [0.0] * 8}
                        ]
                    }
                ).encode(),
                {},
            ),
            400,
            "has no input 'q'",
        ),
        (
            "unknown output",
            (
                json.dumps(
                    {
                        "inputs": [
                            {"name": "x", "shape": [1, 8], "datatype": "FP32", "data": [0.5] * 8}
                        ],
                        "outputs": [{"name": "nope"}],
                    }
                ).encode(),
                {},
            ),
            400,
            "has no output 'nope'",
        ),
    ],
)
def test_bad_request_is_a_400_with_the_reason_and_serving_goes_on(
    server: Server, case: str, request_: tuple[bytes, dict[str, str]], status: int, text: str
) -> None:
    got, body, _ = post(server, "/v2/models/mlp/infer", *request_)
    assert got == status, (case, body)
    assert text in json.loads(body)["error"], (case, body)
    _assert_still_serving(server)


def test_unknown_model_and_version_are_404(server: Server) -> None:
    body, headers = binary_body(X)
    got, answer, _ = post(server, "/v2/models/no_such_model/infer", body, headers)
    assert got == 404 and "no_such_model" in json.loads(answer)["error"]
    got, answer, _ = post(server, "/v2/models/mlp/versions/7/infer", body, headers)
    assert got == 404 and "no loaded version '7'" in json.loads(answer)["error"]
    _assert_still_serving(server)


def test_declared_body_over_the_limit_is_413_before_it_is_read(server: Server) -> None:
    host, port = server.http.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", "/v2/models/mlp/infer")
        connection.putheader("Content-Length", str(10**12))  # and no body at all
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert "over the limit" in json.loads(response.read())["error"]
    finally:
        connection.close()
    _assert_still_serving(server)


def test_json_without_content_type_is_accepted(server: Server) -> None:
    x = np.random.default_rng(4).standard_normal((1, 8)).astype(np.float32)
    body = json.dumps(
        {"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP32", "data": x.ravel().tolist()}]}
    ).encode()
    got, answer, _ = post(server, "/v2/models/mlp/versions/1/infer", body)
    assert got == 200, answer
    y = np.asarray(json.loads(answer)["outputs"][0]["data"], np.float32).reshape(1, 4)
    np.testing.assert_allclose(y, reference(mlp(1), x), rtol=1e-5, atol=1e-6)


def test_default_host_is_loopback(server: Server) -> None:
    assert server.http.startswith("127.0.0.1:") and server.grpc.startswith("127.0.0.1:")


def test_chunked_body_over_the_limit_is_413(server: Server) -> None:
    host, port = server.http.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    chunks = (b"x" * 65536 for _ in range(20))  # 1.25 MiB, no Content-Length
    try:
        connection.request("POST", "/v2/models/mlp/infer", body=chunks, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert "over the limit" in json.loads(response.read())["error"]
    finally:
        connection.close()
    _assert_still_serving(server)
