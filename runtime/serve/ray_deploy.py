"""`xinrt serve --ray`: the Ray Serve deployments, one application per model.

Design (heterogeneous replicas). Ray Serve's router picks a replica of one deployment by the
power of two choices over queue lengths, but every replica of a deployment has the same actor
options, so replicas on different chips need one deployment per kind. Per model:

- one replica kind (the usual case): one deployment whose replicas each mount KServe's v2 router
  (xinrt's app: decoding, batching, sessions) and answer HTTP themselves: no actor hop;
- several kinds (`replicas:` list in config.yaml): one deployment per kind whose replicas run
  the sessions (`infer(version, feeds)`), behind a front deployment that mounts the v2 router,
  checks and decodes each request, and sends it to the kind with the fewest requests in flight
  per replica; Ray then picks the replica of that kind with the shorter queue. This costs one
  actor hop, paid only by models with several kinds.

A root application at `/` answers the server-wide routes (health, server metadata, repository
index, /metrics) and 404 for models that are not deployed. Every replica sends its Prometheus
metrics to it each second (ray_metrics.py); /metrics gives them all, labelled by replica.

The ingress replicas also take `infer(version, feeds)` calls: gRPC requests, which the server
process answers and sends on (ray_grpc.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import InvalidArgumentError, InvalidInputError
from .config import ModelConfig, ReplicaGroup
from .front import send_json
from .ray_metrics import Reports, report_metrics

Feeds = dict[str, np.ndarray]


def replica_overrides(group: ReplicaGroup) -> dict[str, Any]:
    """The config of one Ray replica: the kind's backends and threads, one session."""
    return {
        "backends": group.backends,
        "threads": group.thread_count(),
        "replicas": 1,
        "groups": (),
        "resources": {},
        "autoscaling": None,
    }


def _repository(root: str, overrides: dict[str, Any]) -> Any:
    from .repository import XinrtRepository

    return XinrtRepository(Path(root), 1, overrides)


async def _count_and_submit(repository: Any, model: str, version: str, feeds: Feeds) -> Feeds:
    """One request sent by a handle (gRPC through the server process), counted in this
    replica's metrics as the HTTP requests it decodes itself are."""
    runner = repository.get_model(model).runner(version)
    runner.metrics.requests.inc()
    try:
        result: Feeds = await runner.batcher.submit(feeds)
    except InvalidInputError:
        runner.metrics.failed("invalid")
        raise
    except Exception:
        runner.metrics.failed("execution")
        raise
    return result


class _FullPath:
    """Ray Serve hands the app its route prefix as root_path, which Starlette strips from the
    path; xinrt's routes are absolute (/v2/models/{m}/...), so clear it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "root_path": ""}
        await self.app(scope, receive, send)


class _ModelIngress:
    """The v2 app and the `infer` entry of a deployment serving one model of a repository."""

    repository: Any
    model: str
    max_bytes: int

    def __serve_build_asgi_app__(self) -> ASGIApp:
        from kserve.protocol.dataplane import DataPlane

        from .app import build_app

        dataplane = DataPlane(model_registry=self.repository)
        return _FullPath(build_app(self.repository, dataplane, self.max_bytes))

    async def infer(self, version: str, feeds: Feeds) -> Feeds:
        return await _count_and_submit(self.repository, self.model, version, feeds)


@serve.deployment
@serve.ingress()
class XinrtReplica(_ModelIngress):
    """A whole `xinrt serve` for one model in each replica: v2 REST, batching, sessions."""

    async def __init__(  # type: ignore[misc]  # Ray Serve awaits async constructors
        self, root: str, model: str, overrides: dict[str, Any], max_mb: float
    ) -> None:
        self.repository = _repository(root, overrides)
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.model = model
        await self.repository.load(model)
        self._reporter = asyncio.create_task(report_metrics())


@serve.deployment
class XinrtKindReplica:
    """The sessions of one replica kind of a model with several kinds (behind XinrtFront)."""

    async def __init__(  # type: ignore[misc]
        self, root: str, model: str, overrides: dict[str, Any]
    ) -> None:
        self.repository = _repository(root, overrides)
        self.model = model
        await self.repository.load(model)
        self._reporter = asyncio.create_task(report_metrics())

    async def infer(self, version: str, feeds: Feeds) -> Feeds:
        runner = self.repository.get_model(self.model).runner(version)
        result: Feeds = await runner.batcher.submit(feeds)
        return result


class KindRouter:
    """Sends each request to the replica kind with the fewest requests in flight per replica
    (counted here, in this front replica); stands where a runner's batcher stands."""

    def __init__(self, version: str, handles: dict[str, DeploymentHandle], sizes: dict[str, int]):
        self.version, self.handles, self.sizes = version, handles, sizes
        self.in_flight = dict.fromkeys(handles, 0)

    def pick(self) -> str:
        return min(self.handles, key=lambda k: (self.in_flight[k] + 1) / self.sizes[k])

    async def submit(self, feeds: Feeds) -> Feeds:
        kind = self.pick()
        self.in_flight[kind] += 1
        try:
            return await self.handles[kind].infer.remote(self.version, feeds)
        finally:
            self.in_flight[kind] -= 1

    async def close(self) -> None:
        while any(self.in_flight.values()):
            await asyncio.sleep(0.005)


@serve.deployment
@serve.ingress()
class XinrtFront(_ModelIngress):
    """The v2 router of a model with several replica kinds: decodes and checks requests (with
    the reference backend's view of the model, nothing compiled) and dispatches them."""

    async def __init__(  # type: ignore[misc]
        self,
        root: str,
        model: str,
        handles: dict[str, DeploymentHandle],
        sizes: dict[str, int],
        max_mb: float,
    ) -> None:
        overrides = replica_overrides(ReplicaGroup(("reference",)))
        self.repository = _repository(root, overrides)
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.model = model
        await self.repository.load(model)
        for version, runner in self.repository.get_model(model).runners.items():
            await runner.stop()  # the reference session only describes the model
            runner.batcher = KindRouter(version, handles, sizes)
            runner.backend = ",".join(handles)
        self._reporter = asyncio.create_task(report_metrics())


@serve.deployment(ray_actor_options={"num_cpus": 0})
@serve.ingress()
class XinrtRoot:
    """Server-wide v2 routes under Ray: health, server metadata, repository index, and every
    replica's metrics (which the replicas send here)."""

    def __init__(self, models: dict[str, list[str]]) -> None:
        self.models = models  # name -> versions found
        self.reports = Reports()

    def report(self, replica: str, text: str) -> None:
        """A replica's Prometheus metrics (text format), sent by report_metrics()."""
        self.reports.put(replica, text)

    def __serve_build_asgi_app__(self) -> ASGIApp:
        models, reports = self.models, self.reports

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].rstrip("/") == "/metrics":
                body, content_type = reports.exposition()
                headers = [(b"content-type", content_type.encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            elif scope["type"] == "http":
                await _root_routes(models, scope, send)
            elif scope["type"] == "lifespan":
                await _lifespan(receive, send)

        return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _root_routes(models: dict[str, list[str]], scope: Scope, send: Send) -> None:
    from .app import EXTENSIONS

    path, method = scope["path"].rstrip("/"), scope["method"]
    if path in ("/v2/health/live", "/v2/health/ready"):
        await send_json(send, 200, {"live": True} if path.endswith("live") else {"ready": True})
    elif path == "/v2" and method == "GET":
        await send_json(send, 200, {"name": "xinrt", "version": "0.1.0", "extensions": EXTENSIONS})
    elif path == "/v2/repository/index" and method == "POST":
        index = [
            {"name": m, "version": v, "state": "READY"} for m, vs in models.items() for v in vs
        ]
        await send_json(send, 200, index)
    elif path.startswith("/v2/repository/models/"):
        message = "under --ray, models are deployed with the server; restart it to change them"
        await send_json(send, 501, {"error": message})
    elif path.startswith("/v2/models/"):
        name = path.split("/")[3]
        await send_json(send, 404, {"error": f"Model with name {name} does not exist."})
    else:
        await send_json(send, 404, {"error": f"no route {method} {scope['path']}"})


def _options(group: ReplicaGroup) -> dict[str, Any]:
    actor: dict[str, Any] = {"num_cpus": group.num_cpus, "resources": dict(group.resources)}
    options: dict[str, Any] = {
        "ray_actor_options": actor,
        "max_ongoing_requests": group.max_ongoing_requests,
    }
    if group.autoscaling:
        options["autoscaling_config"] = dict(group.autoscaling)
    else:
        options["num_replicas"] = group.count
    return options


@dataclasses.dataclass
class ModelApp:
    """One Ray Serve application: a model, its route prefix, and the bound deployments."""

    name: str
    route_prefix: str
    app: Any
    kinds: list[str]


def model_app(root: Path, name: str, config: ModelConfig, max_mb: float) -> ModelApp:
    """The application serving one model, by its replica kinds (see the module's docstring)."""
    groups = config.replica_groups()
    prefix = f"/v2/models/{name}"
    if not groups or all(g.count == 0 and not g.autoscaling for g in groups):
        raise InvalidArgumentError(f"model {name!r}: no replicas to deploy (every count is 0)")
    if len(groups) == 1:
        group = groups[0]
        deployment = XinrtReplica.options(  # type: ignore[attr-defined]
            name=name, **_options(group)
        )
        app = deployment.bind(str(root), name, replica_overrides(group), max_mb)
        return ModelApp(name, prefix, app, [group.kind])
    handles, sizes = {}, {}
    for group in groups:
        deployment = XinrtKindReplica.options(  # type: ignore[attr-defined]
            name=f"{name}-{group.kind}", **_options(group)
        )
        handles[group.kind] = deployment.bind(str(root), name, replica_overrides(group))
        sizes[group.kind] = group.replica_estimate()
    front = XinrtFront.options(  # type: ignore[attr-defined]
        name=f"{name}-front",
        ray_actor_options={"num_cpus": 0},
        max_ongoing_requests=max(g.max_ongoing_requests for g in groups) * len(groups),
    )
    app = front.bind(str(root), name, handles, sizes, max_mb)
    return ModelApp(name, prefix, app, [g.kind for g in groups])
