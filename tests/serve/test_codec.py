"""xinrt's REST response encoder: binary or JSON per output by Triton's rule, the bytes of each
binary output after the JSON part, and the cases it leaves to KServe's response object."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import numpy as np
import pytest


@pytest.fixture
def codec(serve_deps: None) -> ModuleType:
    from xinrt.serve import codec

    return codec


def _request(codec: ModuleType, header: dict) -> Any:
    body = json.dumps(header).encode()
    return codec.decode_request(body, None, "m", None)


def _split(body: bytes, json_size: int | None) -> tuple[dict, bytes]:
    if json_size is None:
        return json.loads(body), b""
    return json.loads(body[:json_size]), body[json_size:]


def test_outputs_are_binary_per_output_else_by_the_request_default(codec: ModuleType) -> None:
    rng = np.random.default_rng(7)
    y = rng.standard_normal((2, 3)).astype(np.float32)
    z = rng.integers(-5, 5, (2,)).astype(np.int64)
    request = _request(codec, {
        "id": "r1",
        "inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}],
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "y"}, {"name": "z", "parameters": {"binary_data": False}}],
    })  # fmt: skip
    body, json_size = codec.encode_response(
        request, "m", "3", {"y": y, "z": z}, [("y", "FP32"), ("z", "INT64")]
    )
    header, raw = _split(body, json_size)
    assert header["id"] == "r1" and header["model_version"] == "3"
    first, second = header["outputs"]
    assert first["parameters"] == {"binary_data_size": y.nbytes} and first["shape"] == [2, 3]
    np.testing.assert_array_equal(np.frombuffer(raw, np.float32).reshape(2, 3), y)
    assert second["data"] == z.tolist() and "parameters" not in second


def test_all_json_without_an_id_and_what_is_left_to_kserve(codec: ModuleType) -> None:
    y = np.random.default_rng(8).standard_normal((1, 4)).astype(np.float32)
    plain = _request(
        codec, {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}
    )
    body, json_size = codec.encode_response(plain, "m", "1", {"y": y}, [("y", "FP32")])
    header, _ = _split(body, json_size)
    assert json_size is None and "id" not in header
    np.testing.assert_allclose(header["outputs"][0]["data"], y.ravel(), rtol=1e-6)
    half = y.astype(np.float16)
    assert codec.encode_response(plain, "m", "1", {"y": half}, [("y", "FP16")]) is None
    strings = np.array([["a"]], dtype=object)
    assert codec.encode_response(plain, "m", "1", {"y": strings}, [("y", "BYTES")]) is None
