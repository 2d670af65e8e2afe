"""The unmodified tritonclient (HTTP) against `xinrt serve --ray`, in a process of its own.

python ray_client.py check URL OUT.json MODEL INPUT.npy [MODEL INPUT.npy ...]
    one binary and one JSON inference per model; writes the outputs
python ray_client.py load URL MODEL INPUT.npy EXPECTED.npy REQUESTS CONCURRENCY PROGRESS OUT
    a bounded closed loop; a failed request is retried (at most 5 tries, 60 s in all);
    PROGRESS holds the number of requests answered so far; OUT counts failures per try; a file
    PROGRESS.stop ends the loop early (no new requests; those under way finish)
python ray_client.py grpc URL OUT.json REPEAT MODEL INPUT.npy [MODEL INPUT.npy ...]
    tritonclient gRPC: live, ready, metadata, config, REPEAT inferences per model (the last
    one's output written), and the status of an unknown model's inference
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import numpy as np
import tritonclient.http as httpclient


def _infer(client: Any, model: str, data: np.ndarray, binary: bool) -> np.ndarray:
    metadata = client.get_model_metadata(model)
    tensor = httpclient.InferInput(metadata["inputs"][0]["name"], list(data.shape), "FP32")
    tensor.set_data_from_numpy(data, binary_data=binary)
    output = metadata["outputs"][0]["name"]
    wanted = [httpclient.InferRequestedOutput(output, binary_data=binary)]
    return client.infer(model, [tensor], outputs=wanted).as_numpy(output)


def check(url: str, out_path: str, pairs: list[str]) -> None:
    client = httpclient.InferenceServerClient(url, network_timeout=60)
    result: dict[str, Any] = {"live": client.is_server_live(), "ready": client.is_server_ready()}
    for model, path in zip(pairs[::2], pairs[1::2]):
        data = np.load(path)
        result[model] = {
            "ready": client.is_model_ready(model),
            "binary": _infer(client, model, data, True).tolist(),
            "json": _infer(client, model, data, False).tolist(),
        }
    with open(out_path, "w") as f:
        json.dump(result, f)


def load(url: str, model: str, data: np.ndarray, expected: np.ndarray, total: int, c: int,
         progress: str, out_path: str) -> None:  # fmt: skip
    lock = threading.Lock()
    state: dict[str, Any] = {"next": 0, "done": 0, "failed_tries": 0, "lost": 0, "max_diff": 0.0}
    errors: list[str] = []

    def worker() -> None:
        client = httpclient.InferenceServerClient(url, network_timeout=30)
        while True:
            with lock:
                if state["next"] >= total or os.path.exists(progress + ".stop"):
                    return
                state["next"] += 1
            deadline, answer = time.monotonic() + 60, None
            for _ in range(5):
                try:
                    answer = _infer(client, model, data, True)
                    break
                except Exception as exc:  # the server's answer or the connection's failure
                    with lock:
                        state["failed_tries"] += 1
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
            with lock:
                if answer is None:
                    state["lost"] += 1
                else:
                    diff = float(np.max(np.abs(answer - expected)))
                    state["max_diff"] = max(state["max_diff"], diff)
                state["done"] += 1
                with open(progress + ".partial", "w") as f:  # whole, never half-written
                    f.write(str(state["done"]))
                os.replace(progress + ".partial", progress)

    threads = [threading.Thread(target=worker) for _ in range(c)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    state["seconds"] = time.monotonic() - started
    state["errors"] = errors[:20]
    with open(out_path, "w") as f:
        json.dump(state, f)


def grpc_check(url: str, out_path: str, repeat: int, pairs: list[str]) -> None:
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    client = grpcclient.InferenceServerClient(url)
    result: dict[str, Any] = {"live": client.is_server_live(), "ready": client.is_server_ready()}
    for model, path in zip(pairs[::2], pairs[1::2]):
        data = np.load(path)
        metadata = client.get_model_metadata(model, as_json=True)
        tensor = grpcclient.InferInput(metadata["inputs"][0]["name"], list(data.shape), "FP32")
        tensor.set_data_from_numpy(data)
        output = metadata["outputs"][0]["name"]
        for _ in range(repeat):
            answer = client.infer(model, [tensor]).as_numpy(output)
        config = client.get_model_config(model, as_json=True)["config"]
        result[model] = {
            "ready": client.is_model_ready(model),
            "output": answer.tolist(),
            "max_batch_size": config.get("max_batch_size", 0),
        }
    try:
        client.infer("no-such-model", [tensor])
        result["unknown"] = "answered"
    except InferenceServerException as exc:
        result["unknown"] = exc.status()
    with open(out_path, "w") as f:
        json.dump(result, f)


def main(argv: list[str]) -> int:
    if argv[0] == "check":
        check(argv[1], argv[2], argv[3:])
    elif argv[0] == "grpc":
        grpc_check(argv[1], argv[2], int(argv[3]), argv[4:])
    else:
        url, model, data, expected, total, c, progress, out = argv[1:]
        load(url, model, np.load(data), np.load(expected), int(total), int(c), progress, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
