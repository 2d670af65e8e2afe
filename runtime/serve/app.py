"""The REST app: KServe's v2 endpoints, with xinrt's routes registered first where xinrt adds
versions, model config and the repository index."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from kserve import errors as E
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.model_repository_extension import ModelRepositoryExtension
from kserve.protocol.rest.v2_endpoints import register_v2_endpoints
from prometheus_client import REGISTRY, exposition
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from ..errors import XinrtError
from .front import FrontDoor, read_whole_bodies
from .model import XinrtModel
from .repository import XinrtRepository
from .tensors import tensor_metadata

EXTENSIONS = ["binary_tensor_data", "model_repository", "model_configuration"]


def json_response(content: Any, status_code: int = 200) -> Response:
    """A JSON response encoded by orjson (numpy-free, fast)."""
    return Response(orjson.dumps(content), status_code, media_type="application/json")


def build_app(repository: XinrtRepository, dataplane: DataPlane, max_bytes: int) -> ASGIApp:
    """The ASGI app serving v2 REST and /metrics for the repository's models; infer requests
    are answered by the front door (front.py)."""
    app = FastAPI(title="xinrt serve", docs_url=None, redoc_url=None)
    routes = _Routes(repository, dataplane)
    add = app.router.add_route
    for prefix in ("/v2/models/{model_name}", "/v2/models/{model_name}/versions/{model_version}"):
        add(prefix, routes.model_metadata, methods=["GET"])
        add(prefix + "/ready", routes.model_ready, methods=["GET"])
        add(prefix + "/config", routes.model_config, methods=["GET"])
    add("/v2", routes.server_metadata, methods=["GET"])
    add("/v2/repository/index", routes.index, methods=["POST"])
    add("/v2/repository/models/{model_name}/load", routes.load, methods=["POST"])
    add("/v2/repository/models/{model_name}/unload", routes.unload, methods=["POST"])
    add("/metrics", routes.metrics, methods=["GET"])
    register_v2_endpoints(app, dataplane, ModelRepositoryExtension(repository))
    for error, handler in (
        (E.InvalidInput, E.invalid_input_handler),
        (E.InferenceError, E.inference_error_handler),
        (E.ModelNotFound, E.model_not_found_handler),
        (E.ModelNotReady, E.model_not_ready_handler),
        (NotImplementedError, E.not_implemented_error_handler),
        (E.ServerNotLive, E.server_not_live_handler),
        (E.ServerNotReady, E.server_not_ready_handler),
        (XinrtError, _xinrt_error),
        (Exception, E.generic_exception_handler),
    ):
        app.add_exception_handler(error, handler)
    read_whole_bodies(max_bytes)
    return FrontDoor(app, repository, dataplane, max_bytes)


async def _xinrt_error(request: Request, exc: Exception) -> Response:
    return json_response({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)


class _Routes:
    def __init__(self, repository: XinrtRepository, dataplane: DataPlane) -> None:
        self.repository, self.dataplane = repository, dataplane

    def _model(self, request: Request) -> XinrtModel:
        name = request.path_params["model_name"]
        model = self.repository.get_model(name)
        if not isinstance(model, XinrtModel):
            raise E.ModelNotFound(name)
        return model

    async def server_metadata(self, request: Request) -> Response:
        metadata = self.dataplane.metadata()
        return json_response({**metadata, "extensions": EXTENSIONS})

    async def model_metadata(self, request: Request) -> Response:
        model = self._model(request)
        runner = model.runner(request.path_params.get("model_version"))
        return json_response(
            {
                "name": model.name,
                "versions": sorted(model.runners),
                "platform": "xinrt_onnx",
                "inputs": tensor_metadata(runner.inputs),
                "outputs": tensor_metadata(runner.outputs),
            }
        )

    async def model_ready(self, request: Request) -> Response:
        name = request.path_params["model_name"]
        if self.repository.get_model(name) is None and name in self.repository.sources:
            raise E.ModelNotReady(name, "it is in the repository but not loaded")
        model = self._model(request)
        model.runner(request.path_params.get("model_version"))
        if not model.ready:
            raise E.ModelNotReady(model.name)
        return json_response({"name": model.name, "ready": True})

    async def model_config(self, request: Request) -> Response:
        runner = self._model(request).runner(request.path_params.get("model_version"))
        return json_response(runner.triton_config())

    async def index(self, request: Request) -> Response:
        body = await request.body()
        try:
            options = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise E.InvalidInput(f"repository index: the body is not JSON: {exc}") from exc
        ready = isinstance(options, dict) and bool(options.get("ready"))
        entries = self.repository.index()
        return json_response([e for e in entries if e["state"] == "READY" or not ready])

    async def load(self, request: Request) -> Response:
        await self.repository.load(request.path_params["model_name"])
        return json_response({})

    async def unload(self, request: Request) -> Response:
        name = request.path_params["model_name"]
        try:
            await self.repository.unload_async(name)
        except KeyError as exc:
            raise E.ModelNotFound(name) from exc
        return json_response({})

    async def metrics(self, request: Request) -> Response:
        encoder, content_type = exposition.choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(REGISTRY), headers={"content-type": content_type})
