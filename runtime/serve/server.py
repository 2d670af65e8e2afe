"""Running `xinrt serve`: load the models, then serve REST (uvicorn) and gRPC in one event loop
until SIGTERM/SIGINT, then stop taking requests and finish those in flight."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from kserve.protocol.dataplane import DataPlane

from .app import EXTENSIONS, build_app
from .grpc_service import XinrtServicer, build_server
from .repository import XinrtRepository


@dataclasses.dataclass(frozen=True)
class ServeOptions:
    """Everything `xinrt serve` was told."""

    model: Path
    host: str = "127.0.0.1"
    port: int = 8000
    grpc_port: int = 8001
    workers: int = 1
    max_request_mb: float = 64.0
    grace_s: float = 30.0
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def max_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: serve() owns SIGTERM/SIGINT for REST and gRPC."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:
        pass


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _announce(line: str) -> None:
    print(line, flush=True)


async def serve(options: ServeOptions, on_ready: Callable[[str], None] = _announce) -> None:
    """Serve until a stop signal; in-flight requests finish within `grace_s`."""
    started = time.perf_counter()
    reuse = options.workers > 1
    repository = XinrtRepository(options.model, options.workers, options.overrides)
    await repository.load_all()
    dataplane = DataPlane(model_registry=repository)
    http_socket = _listen(options.host, options.port, reuse)
    grpc_host = f"[{options.host}]" if ":" in options.host else options.host
    servicer = XinrtServicer(dataplane, None, repository, EXTENSIONS)
    grpc_server, grpc_port = build_server(
        servicer, grpc_host, options.grpc_port, options.max_bytes, reuse
    )
    config = uvicorn.Config(
        build_app(repository, dataplane, options.max_bytes),
        log_level="warning",
        timeout_graceful_shutdown=int(options.grace_s),
        lifespan="off",
        proxy_headers=False,  # no proxy in front: no X-Forwarded-* rewriting per request
    )
    http = _Uvicorn(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await grpc_server.start()
    http_task = asyncio.create_task(http.serve(sockets=[http_socket]))
    while not http.started and not http_task.done():
        await asyncio.sleep(0.005)
    if http_task.done():
        http_task.result()  # raises what stopped uvicorn
    gc.enable()  # off while starting, from `xinrt serve` (cli.py)
    port = http_socket.getsockname()[1]
    on_ready(
        f"xinrt serve: ready in {time.perf_counter() - started:.2f} s: "
        f"http={options.host}:{port} grpc={options.host}:{grpc_port} "
        f"models={','.join(sorted(repository.get_models()))}"
    )
    await asyncio.wait(
        [http_task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    http.should_exit = True  # stop accepting; uvicorn waits for requests in flight
    await asyncio.gather(grpc_server.stop(options.grace_s), http_task, return_exceptions=True)
    stops = [m.stop_async() for m in repository.get_models().values() if hasattr(m, "stop_async")]
    try:  # queued requests whose clients are gone are still computed, within the grace time
        await asyncio.wait_for(asyncio.gather(*stops), options.grace_s)
    except asyncio.TimeoutError:
        print("xinrt serve: grace time over, queued requests dropped", file=sys.stderr)
    sys.stdout.flush()


def run(options: ServeOptions) -> None:
    """serve() in a fresh event loop (uvloop when installed)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(options))
    else:
        uvloop.run(serve(options))
