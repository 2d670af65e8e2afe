"""Unmodified tritonclient against a running `xinrt serve`, in a process of its own (KServe's and
tritonclient's gRPC modules cannot be imported in one process). Writes what it saw as JSON.

    python triton_client.py HTTP_URL GRPC_URL MODEL INPUT.npy OUT.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def _error(call: Any) -> dict[str, Any]:
    """The status and message of a call expected to fail (or 'no error')."""
    try:
        call()
    except InferenceServerException as exc:
        return {"status": str(exc.status()), "message": exc.message()}
    return {"status": "no error", "message": ""}


def http_checks(url: str, model: str, data: np.ndarray) -> dict[str, Any]:
    client = httpclient.InferenceServerClient(url)
    out: dict[str, Any] = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "server_metadata": client.get_server_metadata(),
        "model_metadata": client.get_model_metadata(model),
        "model_config": client.get_model_config(model),
        "index": client.get_model_repository_index(),
    }
    output = out["model_metadata"]["outputs"][0]["name"]
    for mode, binary in (("binary", True), ("json", False)):
        tensor = httpclient.InferInput("x", list(data.shape), "FP32")
        tensor.set_data_from_numpy(data, binary_data=binary)
        wanted = [httpclient.InferRequestedOutput(output, binary_data=binary)]
        result = client.infer(model, [tensor], outputs=wanted)
        out[f"infer_{mode}"] = result.as_numpy(output).tolist()
    tensor = httpclient.InferInput("x", list(data.shape), "FP32")
    tensor.set_data_from_numpy(data)
    out["infer_default"] = client.infer(model, [tensor]).as_numpy(output).tolist()
    out["infer_v1"] = client.infer(model, [tensor], model_version="1").as_numpy(output).tolist()
    wrong = httpclient.InferInput("x", list(data.shape), "INT32")
    wrong.set_data_from_numpy(data.astype(np.int32))
    out["wrong_dtype"] = _error(lambda: client.infer(model, [wrong]))
    out["unknown_model"] = _error(lambda: client.infer("no_such_model", [tensor]))
    out["unknown_version"] = _error(lambda: client.infer(model, [tensor], model_version="9"))
    out["unload"] = _error(lambda: client.unload_model(model))
    out["ready_after_unload"] = client.is_model_ready(model)
    out["infer_after_unload"] = _error(lambda: client.infer(model, [tensor]))
    out["load"] = _error(lambda: client.load_model(model))
    out["infer_after_load"] = client.infer(model, [tensor]).as_numpy(output).tolist()
    return out


def grpc_checks(url: str, model: str, data: np.ndarray) -> dict[str, Any]:
    client = grpcclient.InferenceServerClient(url)
    out: dict[str, Any] = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "server_metadata": client.get_server_metadata(as_json=True),
        "model_metadata": client.get_model_metadata(model, as_json=True),
        "model_config": client.get_model_config(model, as_json=True),
        "index": client.get_model_repository_index(as_json=True),
    }
    output = out["model_metadata"]["outputs"][0]["name"]
    tensor = grpcclient.InferInput("x", list(data.shape), "FP32")
    tensor.set_data_from_numpy(data)
    out["infer"] = client.infer(model, [tensor]).as_numpy(output).tolist()
    out["infer_v1"] = client.infer(model, [tensor], model_version="1").as_numpy(output).tolist()
    wrong = grpcclient.InferInput("x", [data.shape[0], 7], "FP32")
    wrong.set_data_from_numpy(np.zeros((data.shape[0], 7), np.float32))
    out["wrong_shape"] = _error(lambda: client.infer(model, [wrong]))
    out["unknown_model"] = _error(lambda: client.infer("no_such_model", [tensor]))
    big = grpcclient.InferInput("x", [40000, 8], "FP32")  # 1.25 MiB: over the server's 1 MiB
    big.set_data_from_numpy(np.zeros((40000, 8), np.float32))
    out["too_large"] = _error(lambda: client.infer(model, [big]))
    out["unload"] = _error(lambda: client.unload_model(model))
    out["ready_after_unload"] = client.is_model_ready(model)
    out["load"] = _error(lambda: client.load_model(model))
    out["infer_after_load"] = client.infer(model, [tensor]).as_numpy(output).tolist()
    return out


def main(argv: list[str]) -> int:
    http_url, grpc_url, model, input_path, out_path = argv
    data = np.load(input_path)
    result = {
        "http": http_checks(http_url, model, data),
        "grpc": grpc_checks(grpc_url, model, data),
    }
    with open(out_path, "w") as f:
        json.dump(result, f, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
