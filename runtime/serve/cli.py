"""`xinrt serve MODEL_OR_REPO`: the Open Inference Protocol (KServe v2 / Triton) over xinrt."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailableError, InvalidArgumentError


def register(sub: Any) -> None:
    """Add the `serve` subcommand to the `xinrt` parser."""
    serve = sub.add_parser(
        "serve",
        help="serve models over v2 REST + gRPC (tritonclient, KServe clients)",
        description=__doc__,
    )
    serve.add_argument(
        "model",
        help="a .onnx file, a repository <model>/<version>/model.onnx, or 'demo' (light ResNet-50)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default loopback; 0.0.0.0 for all)",
    )
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (0: any free port)")
    serve.add_argument("--grpc-port", type=int, default=8001, help="gRPC port (0: any free port)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (SO_REUSEPORT)")
    serve.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="serve on Ray Serve: the cluster at ADDRESS, or (none given) a local Ray instance "
        "on 127.0.0.2; needs the 'serve-ray' extra",
    )
    serve.add_argument(
        "--max-request-mb",
        type=float,
        default=64.0,
        help="largest request body / gRPC message accepted",
    )
    serve.add_argument(
        "--grace", type=float, default=30.0, help="seconds to finish in-flight requests on SIGTERM"
    )
    group = serve.add_argument_group("settings over every model's config.yaml")
    group.add_argument("--backends", help="comma-separated, in priority order")
    group.add_argument("--threads", type=int, help="intra-op threads per replica")
    group.add_argument("--replicas", type=int, help="sessions per model")
    group.add_argument("--max-batch-size", type=int, help="dynamic batching limit (0: off)")
    group.add_argument("--max-queue-delay-us", type=int, help="how long a batch waits to fill")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until SIGTERM/SIGINT."""
    if args.ray is None:
        # Starting makes some 10^5 long-lived objects (KServe's imports, the models' sessions)
        # that the cyclic collector would walk again and again (0.1-0.2 s of a 1.5 s start).
        # serve() turns it back on once the models are loaded.
        gc.disable()
    ray: tuple[Any, ...] | None = None
    if args.ray is not None:
        from .ray_main import check_address, prepare

        if args.workers > 1:
            raise InvalidArgumentError(
                "--workers does not apply to --ray: Ray Serve runs the replicas "
                "(set replicas, or --replicas, instead)"
            )
        address = check_address(args.ray) if args.ray else None
        ray = (address, prepare(address))
    argv, sys.argv = sys.argv, sys.argv[:1]  # kserve parses sys.argv when imported
    try:
        import kserve  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            f"xinrt serve needs the 'serve' extra: pip install 'xinrt[serve]' ({exc})"
        ) from exc
    finally:
        sys.argv = argv
    from .config import parse_config
    from .server import ServeOptions
    from .workers import run_workers

    given = {
        key: getattr(args, key)
        for key in ("backends", "threads", "replicas", "max_batch_size", "max_queue_delay_us")
        if getattr(args, key) is not None
    }
    parsed = parse_config(given, "command line")  # the same checks as config.yaml
    overrides = {key: getattr(parsed, key) for key in given}
    model = Path(args.model)
    if args.model == "demo" and not model.exists():
        from .demo import demo_repository

        model = demo_repository()
    options = ServeOptions(
        model=model,
        host=args.host,
        port=args.port,
        grpc_port=args.grpc_port,
        workers=max(1, args.workers),
        max_request_mb=args.max_request_mb,
        grace_s=args.grace,
        overrides=overrides,
    )
    sys.stdout.flush()
    if ray is not None:
        from .ray_main import run_on_ray

        return run_on_ray(options, *ray)
    return run_workers(options)
