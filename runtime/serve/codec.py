"""REST v2 request bodies -> KServe's InferRequest, with the two fixes xinrt needs over KServe's
own decoder (see docs/serving.md), and output arrays -> the response body:

- binary tensors stay bytes (KServe turns each into a Python list on the event loop: 9x slower);
- a body without `Inference-Header-Content-Length` is JSON whatever its Content-Type
  (tritonclient's JSON mode sends none, and KServe then refuses the body).

Every declared size is checked against the body before it is sliced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput, InferRequest, RequestedOutput

HEADER_LENGTH = "inference-header-content-length"


def decode_request(
    body: bytes, header_length: str | None, model_name: str, model_version: str | None
) -> InferRequest:
    """An InferRequest from a v2 REST body, JSON or JSON + binary tensors."""
    json_end = len(body)
    if header_length is not None:
        if not header_length.strip().isdigit() or int(header_length) > len(body):
            raise InvalidInput(
                f"{HEADER_LENGTH} is {header_length!r} but the body has {len(body)} bytes"
            )
        json_end = int(header_length)
    try:
        header = orjson.loads(body[:json_end])
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request body is not v2 JSON: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list):
        raise InvalidInput("request JSON needs an 'inputs' list")
    position = json_end
    inputs = []
    for entry in header["inputs"]:
        tensor, position = _input(entry, body, position, model_name)
        inputs.append(tensor)
    if position != len(body):
        raise InvalidInput(
            f"the body has {len(body) - position} bytes after the declared binary tensors"
        )
    outputs = header.get("outputs")
    if outputs is not None and not (
        isinstance(outputs, list) and all(isinstance(o, dict) and "name" in o for o in outputs)
    ):
        raise InvalidInput("'outputs' must be a list of {\"name\": ...} objects")
    parameters = header.get("parameters")
    return InferRequest(
        model_name=model_name,
        model_version=model_version,
        request_id=str(header["id"]) if header.get("id") is not None else None,
        parameters=parameters if isinstance(parameters, dict) else None,
        infer_inputs=inputs,
        request_outputs=[RequestedOutput(o["name"], o.get("parameters")) for o in outputs]
        if outputs
        else None,
    )


def _input(entry: Any, body: bytes, position: int, model: str) -> tuple[InferInput, int]:
    if not isinstance(entry, dict) or not all(k in entry for k in ("name", "shape", "datatype")):
        raise InvalidInput(f"model {model!r}: each input needs name, shape and datatype: {entry!r}")
    if not isinstance(entry["datatype"], str):
        raise InvalidInput(f"model {model!r}: input {entry['name']!r} datatype must be a string")
    parameters = entry.get("parameters") or {}
    tensor = InferInput(
        name=str(entry["name"]),
        shape=entry["shape"],
        datatype=entry["datatype"],
        parameters=parameters if isinstance(parameters, dict) else None,
    )
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if size is None:
        if "data" not in entry:
            raise InvalidInput(f"model {model!r}: input {tensor.name!r} has no 'data'")
        tensor.data = entry["data"]
        return tensor, position
    if not isinstance(size, int) or size < 0 or size > len(body) - position:
        raise InvalidInput(
            f"model {model!r}: input {tensor.name!r} declares binary_data_size {size!r} but only "
            f"{len(body) - position} bytes remain in the body"
        )
    tensor._raw_data = memoryview(body)[position : position + size]  # no copy
    return tensor, position + size


def encode_response(
    request: InferRequest,
    model_name: str,
    version: str,
    outputs: dict[str, np.ndarray],
    wanted: list[tuple[str, str]],
) -> tuple[bytes, int | None] | None:
    """The v2 REST response body and its JSON part's length (None: all JSON), written straight
    from the output arrays (KServe's InferResponse.to_rest converts each output to bytes twice).
    An output is binary when its requested output says `binary_data: true`, else when the
    request's `binary_data_output` parameter says so (Triton's rule). None for what this does
    not write (non-numeric outputs, FP16 as JSON): KServe's response handles those."""
    asked = {o.name: o.binary_data for o in request.request_outputs or []}
    default = bool((request.parameters or {}).get("binary_data_output", False))
    entries, raw = [], []
    for name, datatype in wanted:
        array = outputs[name]
        binary = asked.get(name)
        binary = default if binary is None else bool(binary)
        if array.dtype.kind not in "biuf" or (datatype == "FP16" and not binary):
            return None
        entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if binary:
            data = np.ascontiguousarray(array).data.cast("B")
            entry["parameters"] = {"binary_data_size": data.nbytes}
            raw.append(data)
        else:
            entry["data"] = array.ravel().tolist()
        entries.append(entry)
    header: dict[str, Any] = {"model_name": model_name, "model_version": version}
    if request.id:
        header["id"] = request.id
    header["outputs"] = entries
    json_part = orjson.dumps(header)
    if not raw:
        return json_part, None
    return b"".join([json_part, *raw]), len(json_part)
