"""v2 gRPC: KServe's servicer, made version-aware, plus the Triton methods tritonclient calls that
KServe's proto lacks (ModelConfig, RepositoryIndex) or lays out differently (RepositoryModelLoad
and Unload carry the model name in field 2 in Triton's proto, field 1 in KServe's).

Those messages are declared here, field numbers as in Triton's grpc_service.proto and
model_config.proto, in a private descriptor pool: KServe's and tritonclient's generated modules
share the `inference` package and cannot live in one pool.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc import StatusCode
from kserve.errors import InferenceError, InvalidInput, ModelNotFound
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor
from kserve.protocol.grpc.servicer import InferenceServicer

from ..errors import XinrtError
from .model import XinrtModel
from .repository import XinrtRepository

SERVICE = "inference.GRPCInferenceService"
_STRING, _BOOL, _INT32, _INT64, _UINT64, _MESSAGE = 9, 8, 5, 3, 4, 11
_REPEATED = 3

# message -> [(field, number, type, repeated, message type)]
_MESSAGES: dict[str, list[tuple[str, int, int, bool, str]]] = {
    "ModelConfigRequest": [("name", 1, _STRING, False, ""), ("version", 2, _STRING, False, "")],
    "ModelInput": [
        ("name", 1, _STRING, False, ""),
        ("data_type", 2, _INT32, False, ""),  # enum DataType on the wire is a varint
        ("dims", 4, _INT64, True, ""),
    ],
    "ModelOutput": [
        ("name", 1, _STRING, False, ""),
        ("data_type", 2, _INT32, False, ""),
        ("dims", 3, _INT64, True, ""),
    ],
    "ModelInstanceGroup": [("count", 2, _INT32, False, ""), ("kind", 4, _INT32, False, "")],
    "ModelDynamicBatching": [
        ("preferred_batch_size", 1, _INT32, True, ""),
        ("max_queue_delay_microseconds", 2, _UINT64, False, ""),
    ],
    "ModelConfig": [
        ("name", 1, _STRING, False, ""),
        ("platform", 2, _STRING, False, ""),
        ("max_batch_size", 4, _INT32, False, ""),
        ("input", 5, _MESSAGE, True, "ModelInput"),
        ("output", 6, _MESSAGE, True, "ModelOutput"),
        ("instance_group", 7, _MESSAGE, True, "ModelInstanceGroup"),
        ("dynamic_batching", 11, _MESSAGE, False, "ModelDynamicBatching"),
        ("backend", 17, _STRING, False, ""),
    ],
    "ModelConfigResponse": [("config", 1, _MESSAGE, False, "ModelConfig")],
    "RepositoryIndexRequest": [
        ("repository_name", 1, _STRING, False, ""),
        ("ready", 2, _BOOL, False, ""),
    ],
    "ModelIndex": [
        ("name", 1, _STRING, False, ""),
        ("version", 2, _STRING, False, ""),
        ("state", 3, _STRING, False, ""),
        ("reason", 4, _STRING, False, ""),
    ],
    "RepositoryIndexResponse": [("models", 1, _MESSAGE, True, "ModelIndex")],
    "RepositoryModelLoadRequest": [
        ("repository_name", 1, _STRING, False, ""),
        ("model_name", 2, _STRING, False, ""),
    ],
    "RepositoryModelLoadResponse": [],
}
_DATA_TYPES = {
    "BOOL": 1,
    "UINT8": 2,
    "UINT16": 3,
    "UINT32": 4,
    "UINT64": 5,
    "INT8": 6,
    "INT16": 7,
    "INT32": 8,
    "INT64": 9,
    "FP16": 10,
    "FP32": 11,
    "FP64": 12,
    "BYTES": 13,
    "BF16": 14,
}


def _triton_messages() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    file = descriptor_pb2.FileDescriptorProto(
        name="xinrt_triton_subset.proto", package="inference", syntax="proto3"
    )
    for message, fields in _MESSAGES.items():
        proto = file.message_type.add(name=message)
        for field, number, kind, repeated, type_name in fields:
            entry = proto.field.add(
                name=field, number=number, type=kind, label=_REPEATED if repeated else 1
            )
            if type_name:
                entry.type_name = f".inference.{type_name}"
    pool.Add(file)
    return {
        m: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"inference.{m}"))
        for m in _MESSAGES
    }


TRITON = _triton_messages()


class XinrtServicer(InferenceServicer):
    """KServe's servicer with versions, Triton's repository methods and model config."""

    def __init__(
        self, dataplane: Any, extension: Any, repository: XinrtRepository, extensions: list[str]
    ) -> None:
        super().__init__(dataplane, extension)
        self._repository = repository
        self._extensions = extensions

    def _model(self, name: str) -> XinrtModel:
        model = self._repository.get_model(name)
        if not isinstance(model, XinrtModel):
            raise ModelNotFound(name)
        return model

    async def ServerMetadata(self, request: Any, context: Any) -> Any:
        metadata = self._data_plane.metadata()
        return pb.ServerMetadataResponse(
            name=metadata["name"], version=metadata["version"], extensions=self._extensions
        )

    async def ModelReady(self, request: Any, context: Any) -> Any:
        model = self._repository.get_model(request.name)
        if not isinstance(model, XinrtModel):
            if request.name in self._repository.sources:  # in the repository, not loaded
                return pb.ModelReadyResponse(ready=False)
            raise ModelNotFound(request.name)
        ready = bool(model.ready) and (not request.version or request.version in model.runners)
        return pb.ModelReadyResponse(ready=ready)

    async def ModelMetadata(self, request: Any, context: Any) -> Any:
        model = self._model(request.name)
        runner = model.runner(request.version)
        return pb.ModelMetadataResponse(
            name=model.name,
            versions=sorted(model.runners),
            platform="xinrt_onnx",
            inputs=model.get_input_types() if runner.version == model.latest else [],
            outputs=model.get_output_types() if runner.version == model.latest else [],
        )

    async def ModelConfig(self, request: Any, context: Any) -> Any:
        config = self._model(request.name).runner(request.version).triton_config()
        message = TRITON["ModelConfig"](
            name=config["name"],
            platform=config["platform"],
            backend=config["backend"],
            max_batch_size=config["max_batch_size"],
            input=[_tensor("ModelInput", t) for t in config["input"]],
            output=[_tensor("ModelOutput", t) for t in config["output"]],
            instance_group=[{"count": g["count"], "kind": 2} for g in config["instance_group"]],
        )
        if "dynamic_batching" in config:
            batching = config["dynamic_batching"]
            message.dynamic_batching.max_queue_delay_microseconds = batching[
                "max_queue_delay_microseconds"
            ]
            message.dynamic_batching.preferred_batch_size.extend(
                batching.get("preferred_batch_size", [])
            )
        return TRITON["ModelConfigResponse"](config=message)

    async def RepositoryIndex(self, request: Any, context: Any) -> Any:
        entries = self._repository.index()
        if request.ready:
            entries = [e for e in entries if e["state"] == "READY"]
        return TRITON["RepositoryIndexResponse"](models=entries)

    async def RepositoryModelLoad(self, request: Any, context: Any) -> Any:
        try:
            await self._repository.load(request.model_name)
        except XinrtError as exc:
            raise InvalidInput(str(exc)) from exc
        return TRITON["RepositoryModelLoadResponse"]()

    async def RepositoryModelUnload(self, request: Any, context: Any) -> Any:
        try:
            await self._repository.unload_async(request.model_name)
        except KeyError as exc:
            raise ModelNotFound(request.model_name) from exc
        return TRITON["RepositoryModelLoadResponse"]()


def _tensor(kind: str, entry: dict[str, Any]) -> Any:
    datatype = entry["data_type"].removeprefix("TYPE_")
    return TRITON[kind](
        name=entry["name"], data_type=_DATA_TYPES.get(datatype, 0), dims=entry["dims"]
    )


class _Capture:
    """Stands in for a server to collect the method handlers KServe's generated code adds."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self.handlers.update(handlers)


def method_handlers(servicer: XinrtServicer) -> dict[str, Any]:
    """KServe's v2 methods, with Triton's layouts where tritonclient expects them."""
    capture = _Capture()
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, capture)
    handlers = dict(capture.handlers)
    for method, request, response in (
        ("ModelConfig", "ModelConfigRequest", "ModelConfigResponse"),
        ("RepositoryIndex", "RepositoryIndexRequest", "RepositoryIndexResponse"),
        ("RepositoryModelLoad", "RepositoryModelLoadRequest", "RepositoryModelLoadResponse"),
        ("RepositoryModelUnload", "RepositoryModelLoadRequest", "RepositoryModelLoadResponse"),
    ):
        handlers[method] = grpc.unary_unary_rpc_method_handler(
            getattr(servicer, method),
            request_deserializer=TRITON[request].FromString,
            response_serializer=TRITON[response].SerializeToString,
        )
    return handlers


class StatusInterceptor(ExceptionToStatusInterceptor):
    """KServe's error -> status mapping, except that a failed execution is INTERNAL (the
    server's fault), not INVALID_ARGUMENT."""

    async def handle_exception(
        self, ex: Exception, request_or_iterator: Any, context: Any, method_name: str
    ) -> None:
        if isinstance(ex, InferenceError):
            await context.abort(StatusCode.INTERNAL, ex.reason)
        if isinstance(ex, XinrtError):
            await context.abort(StatusCode.INVALID_ARGUMENT, str(ex))
        await super().handle_exception(ex, request_or_iterator, context, method_name)


def build_server(
    servicer: XinrtServicer, host: str, port: int, max_bytes: int, reuse_port: bool
) -> tuple[grpc.aio.Server, int]:
    """The asyncio gRPC server on host:port (port 0: any free port), not yet started."""
    server = grpc.aio.server(
        interceptors=(StatusInterceptor(),),
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.max_send_message_length", max_bytes),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
        ],
    )
    server.add_registered_method_handlers(SERVICE, method_handlers(servicer))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"gRPC cannot listen on {host}:{port}")
    return server, bound
