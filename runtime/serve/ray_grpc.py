"""v2 gRPC under `xinrt serve --ray`: the server process answers gRPC itself and sends each
inference to the model's Ray Serve application through a deployment handle.

Ray Serve's own gRPC proxy routes a call by the client's `application` metadata (or to the only
application there is); tritonclient sends none and xinrt deploys one application per model, so
the proxy cannot route its calls. Here the route is the request's model name, as in the
single-process server: KServe's servicer (xinrt's, with Triton's extras) runs over a view of every
model built on the reference backend (metadata, config, request checks; nothing compiled), and
each checked request goes to the model's ingress replica (`infer(version, feeds)`), where it joins
that replica's batches like an HTTP request. That is one actor hop per gRPC request, as through
Ray's gRPC proxy; the HTTP path keeps none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import ReplicaGroup

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle

    from .server import ServeOptions

Feeds = dict[str, np.ndarray]


class HandleBatcher:
    """Stands where a runner's batcher stands: sends each request to a model's application,
    whose replica batches it."""

    def __init__(self, version: str, handle: DeploymentHandle) -> None:
        self.version, self.handle = version, handle

    async def submit(self, feeds: Feeds) -> Feeds:
        result: Feeds = await self.handle.infer.remote(self.version, feeds)
        return result

    async def close(self) -> None:
        pass


def _fixed_servicer(base: type) -> type:
    class RayServicer(base):  # type: ignore[valid-type,misc]
        """The servicer under Ray: the deployment is fixed when the server starts."""

        async def RepositoryModelLoad(self, request: Any, context: Any) -> Any:
            raise NotImplementedError(
                "under --ray, models are deployed with the server; restart it to change them"
            )

        RepositoryModelUnload = RepositoryModelLoad

    return RayServicer


async def serve_grpc(
    options: ServeOptions,
    models: list[str],
    stop: asyncio.Event,
    on_ready: Callable[[int], None],
) -> None:
    """Serve v2 gRPC on options.host:options.grpc_port until `stop` is set; on_ready(port)
    once it listens. Call in a process connected to the Ray cluster, after the applications
    are deployed."""
    from kserve.protocol.dataplane import DataPlane
    from ray import serve

    from .app import EXTENSIONS
    from .grpc_service import XinrtServicer, build_server
    from .ray_deploy import replica_overrides
    from .repository import XinrtRepository

    overrides = {**options.overrides, **replica_overrides(ReplicaGroup(("reference",)))}
    repository = XinrtRepository(options.model, 1, overrides)
    for name in models:
        await repository.load(name)
        handle = serve.get_app_handle(name)
        for version, runner in repository.get_model(name).runners.items():
            await runner.stop()  # the reference session only describes the model
            runner.batcher = HandleBatcher(version, handle)  # type: ignore[assignment]
    servicer = _fixed_servicer(XinrtServicer)(
        DataPlane(model_registry=repository), None, repository, EXTENSIONS
    )
    host = f"[{options.host}]" if ":" in options.host else options.host
    server, port = build_server(servicer, host, options.grpc_port, options.max_bytes, False)
    await server.start()
    on_ready(port)
    await stop.wait()
    await server.stop(options.grace_s)
