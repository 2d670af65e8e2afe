"""A Ray cluster of loopback nodes for the `--ray` tests: each node is one `ray start --block`
process (127.0.0.2 for the head, 127.0.0.3 for the second: Ray maps 127.0.0.1 to the machine's
network address), with its own temp folder under the test's, token auth with a token in the
environment (nothing written to ~/.ray), stopped by PID."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from xinrt.serve.ray_main import LOCAL_PERIODS

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(proc.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = children(pid), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Node:
    """One `ray start --block` process and what it started."""

    ip: str
    process: subprocess.Popen
    log: Path
    seen: set[int] = field(default_factory=set)  # every descendant ever seen, to stop them all

    def processes(self) -> list[int]:
        found = descendants(self.process.pid)
        self.seen.update(found)
        return found

    def raylet(self) -> int:
        for pid in self.processes():
            if command_line(pid).split(" ", 1)[0].endswith("/raylet"):
                return pid
        raise AssertionError(f"node {self.ip}: no raylet among its processes")

    def replicas(self, name: str) -> list[int]:
        """The Serve replica processes of deployment `name` on this node."""
        return [p for p in self.processes() if f"ServeReplica:{name}" in command_line(p)]

    def stop(self) -> None:
        """SIGTERM the `ray start` process (it stops its own), then any leftover by PID."""
        self.processes()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            alive = [p for p in self.seen if Path(f"/proc/{p}").exists() and _not_zombie(p)]
            if not alive:
                return
            time.sleep(0.5)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _not_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Cluster:
    """A head node and worker nodes on loopback addresses."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.address = f"127.0.0.2:{self.port}"
        self.env = {
            **os.environ,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "RAY_SERVE_ENABLE_HA_PROXY": "0",  # Ray's proxy: replicas on other nodes stay
            "RAY_USAGE_STATS_ENABLED": "0",  # reachable without binding every interface
            "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",  # as a local `xinrt serve --ray` sets it,
            **LOCAL_PERIODS,  # and its control-plane periods
            "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",  # stopped after serving: no 30 s drain
        }
        self.nodes: list[Node] = []

    def start_node(self, ip: str, cpus: int = 1, resources: str = "", timeout: float = 90) -> Node:
        name = f"node{len(self.nodes)}-{ip.rsplit('.', 1)[1]}"
        command = [RAY, "start", "--block", f"--node-ip-address={ip}", f"--num-cpus={cpus}"]
        command += ["--disable-usage-stats", f"--temp-dir={self.folder / name}"]
        command += [f"--dashboard-agent-listen-port={free_port()}"]
        if resources:
            command.append(f"--resources={resources}")
        if not self.nodes:
            command += ["--head", f"--port={self.port}", "--include-dashboard=false"]
            command += [f"--ray-client-server-port={free_port()}"]
        else:
            command.append(f"--address={self.address}")
        log = self.folder / f"{name}.log"
        with open(log, "w") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.folder
            )
        node = Node(ip, process, log)
        self.nodes.append(node)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"ray start on {ip} exited:\n{log.read_text()[-3000:]}")
            if "--block" in log.read_text() or "Ray runtime started" in log.read_text():
                node.processes()
                return node
            time.sleep(0.2)
        raise AssertionError(f"ray start on {ip} not up in {timeout} s:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()
