"""The ASGI front door: body size limit for every request, and the infer route served right here
without the framework's middleware stack, which costs more CPU per request than the decoding.
An xinrt model's request goes from xinrt's decoder straight to the model's batcher and back to
xinrt's encoder (codec.py), past KServe's per-request wrapper (three timers, coroutine checks)
and its response object (which converts every output twice); other models go through KServe's
data plane. Everything else goes on to the FastAPI app."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import orjson
from kserve import errors as E
from kserve.protocol.dataplane import DataPlane
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import XinrtError
from .codec import HEADER_LENGTH, decode_request, encode_response
from .model import XinrtModel
from .repository import XinrtRepository

INFER_PATH = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?/infer$")
_LOG = logging.getLogger("xinrt.serve")


class RequestTooLarge(Exception):
    """A request body over the server's --max-request-mb (HTTP 413)."""


def error_status(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and message for an error raised while answering a request."""
    for kind, status in (
        (E.InvalidInput, 400),
        (E.ModelNotFound, 404),
        (E.ModelNotReady, 503),
        (E.InferenceError, 500),
        (RequestTooLarge, 413),
        (NotImplementedError, 501),
    ):
        if isinstance(exc, kind):
            return status, str(exc)
    if isinstance(exc, XinrtError):
        return 400, f"{type(exc).__name__}: {exc}"
    _LOG.error("internal error", exc_info=exc)
    return 500, f"internal error: {type(exc).__name__}: {exc}"


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, content: Any) -> None:
    """A JSON response, encoded by orjson."""
    await _send(send, status, orjson.dumps(content), [(b"content-type", b"application/json")])


def read_whole_bodies(max_bytes: int) -> None:
    """uvicorn stops reading a request body every 64 KiB until the app asks for more, so a
    600 KB tensor costs ten event-loop round trips (and under Ray Serve's direct ingress, ten
    more through its receive queue); let it buffer up to the request size limit. uvicorn reads
    this module constant on each chunk and has no setting for it, so this is process-wide:
    build_app() calls it for the single-process server and for every Ray replica alike."""
    from uvicorn.protocols.http import h11_impl, httptools_impl

    for module in (h11_impl, httptools_impl):
        setattr(module, "HIGH_WATER_LIMIT", max(module.HIGH_WATER_LIMIT, max_bytes))  # noqa: B010


class FrontDoor:
    """Size limit, then `POST .../infer` here, everything else to `app`."""

    def __init__(
        self, app: ASGIApp, repository: XinrtRepository, dataplane: DataPlane, max_bytes: int
    ) -> None:
        self.app, self.repository, self.dataplane = app, repository, dataplane
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            message = (
                f"request body of {length.decode(errors='replace')} bytes: over the limit of "
                f"{self.max_bytes} bytes (--max-request-mb)"
            )
            await send_json(send, 413, {"error": message})
            return
        match = INFER_PATH.match(scope["path"]) if scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._body(receive)
            header = headers.get(HEADER_LENGTH.encode())
            request = decode_request(
                body, header.decode() if header is not None else None, *match.groups()
            )
            payload, json_size = await self._infer(match.group(1), request)
        except Exception as exc:
            status, message = error_status(exc)
            await send_json(send, status, {"error": message})
            return
        if json_size is None:  # all JSON: xinrt's encoder gives bytes, KServe's a dict
            body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
            await _send(send, 200, body, [(b"content-type", b"application/json")])
            return
        binary = [
            (b"content-type", b"application/octet-stream"),
            (HEADER_LENGTH.encode(), str(json_size).encode()),
        ]
        await _send(send, 200, payload, binary)

    async def _infer(self, name: str, request: Any) -> tuple[Any, int | None]:
        """The response body of one request and the length of its JSON part (None: JSON)."""
        model = self.repository.get_model(name)
        if not (isinstance(model, XinrtModel) and model.ready):  # KServe's errors, or its model
            response, _ = await self.dataplane.infer(name, request)
            return response.to_rest()
        started = time.perf_counter()
        runner, outputs, wanted = await model.infer_arrays(request)
        runner.metrics.predict_done(time.perf_counter() - started)
        encoded = encode_response(request, model.name, runner.version, outputs, wanted)
        if encoded is None:  # outputs xinrt's encoder leaves to KServe's
            return model.response(request, runner, outputs, wanted).to_rest()
        return encoded

    async def _body(self, receive: Receive) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise E.InvalidInput("the client went away before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise RequestTooLarge(f"request body over the limit of {self.max_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
