"""Virtual environments that xinrt creates for SDK workers, under `cache_dir()/envs/<name>`.

Each SDK whose dependencies clash with ours (rknn pins numpy<=1.26 and protobuf<=4.25, nncase
needs a .NET runtime) gets its own venv with pinned versions. `install` is idempotent: a marker
file records what was installed, and an unchanged, working env is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xinrt.cache import cache_dir, trust_problem

MARKER = "xinrt-env.json"


@dataclass(frozen=True)
class EnvSpec:
    """How to build one SDK's venv: pip steps in order, and a check that the SDK imports."""

    name: str  # folder under envs/, and the name in `xinrt backend install NAME`
    sdk: str  # what the user reads, e.g. "rknn-toolkit2 2.5.0"
    steps: tuple[tuple[str, ...], ...]  # arguments of `pip install`, one tuple per step
    check: str  # Python run in the env with runtime_env set; exit 0 means usable
    runtime_env: Callable[[Path], dict[str, str]] | None = field(default=None, compare=False)
    post_install: Callable[[Path], None] | None = field(default=None, compare=False)
    notes: str = ""

    def digest(self) -> str:
        """Changes whenever the pins or the check change (then install runs again)."""
        text = json.dumps([self.steps, self.check])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def envs_root() -> Path:
    """Where worker venvs live: $XINRT_ENVS_DIR, else `cache_dir()/envs` (~/.cache/xinrt/envs)."""
    explicit = os.environ.get("XINRT_ENVS_DIR")
    return Path(explicit) if explicit else cache_dir() / "envs"


def env_dir(name: str) -> Path:
    return envs_root() / name


def env_python(name: str) -> Path:
    """The venv's interpreter (which the worker process runs)."""
    return env_dir(name) / "bin" / "python"


def site_packages(name: str) -> Path:
    """The venv's site-packages folder (first match), for SDKs that ship executables there."""
    found = sorted((env_dir(name) / "lib").glob("python3*/site-packages"))
    return found[0] if found else env_dir(name) / "lib" / "site-packages"


def read_marker(name: str) -> dict[str, Any] | None:
    """What `install` recorded (versions, size, seconds), or None when it never finished."""
    try:
        data = json.loads((env_dir(name) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def env_installed(name: str) -> bool:
    """True when `xinrt backend install NAME` finished and the interpreter is still there."""
    return read_marker(name) is not None and env_python(name).exists()


def env_trust_problem(name: str) -> str:
    """ "" when the venv's folders and interpreter belong to this user (or root) and are not
    writable by group or others, else the first problem. Only the folders code is loaded from
    are checked (the venv, bin/, site-packages, the interpreter), not every file."""
    root = env_dir(name)
    for path in (envs_root(), root, root / "bin", env_python(name), site_packages(name)):
        problem = trust_problem(path)
        if problem:
            return problem
    return ""


def worker_environment(spec: EnvSpec) -> dict[str, str]:
    """Environment variables the SDK needs in its worker (PATH additions, runtimes)."""
    return dict(spec.runtime_env(env_dir(spec.name))) if spec.runtime_env else {}


def folder_size(path: Path) -> int:
    """Bytes under a folder (files only, links not followed)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def run_check(spec: EnvSpec, timeout_s: float = 300.0) -> str:
    """ "" when the SDK imports in its venv, else the last line of its error."""
    python = env_python(spec.name)
    if not python.exists():
        return f"no venv at {env_dir(spec.name)}"
    env = {**os.environ, **worker_environment(spec), "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(
            [str(python), "-c", spec.check],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout_s,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the check did not finish: {exc}"
    if done.returncode == 0:
        return ""
    lines = [line for line in (done.stderr + done.stdout).strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


def install(
    spec: EnvSpec, force: bool = False, log: Callable[[str], None] = print, quiet: bool = False
) -> dict[str, Any]:
    """Create or update the SDK's venv with pinned versions; idempotent. Returns the marker."""
    target = env_dir(spec.name)
    marker = read_marker(spec.name)
    if not force and marker and marker.get("digest") == spec.digest() and not run_check(spec):
        log(f"{spec.name}: {spec.sdk} already installed in {target}")
        return marker
    if force and target.exists():
        shutil.rmtree(target)
    started = time.perf_counter()
    total = len(spec.steps) + 2
    if not env_python(spec.name).exists():
        log(f"[1/{total}] creating venv {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(target)], spec, quiet)
    (target / MARKER).unlink(missing_ok=True)
    for index, step in enumerate(spec.steps, start=2):
        step_started = time.perf_counter()
        log(f"[{index}/{total}] pip install {' '.join(step)}")
        _run([str(env_python(spec.name)), "-m", "pip", "install", *step], spec, quiet)
        log(f"        done in {time.perf_counter() - step_started:.1f} s")
    if spec.post_install is not None:
        spec.post_install(target)
    log(f"[{total}/{total}] checking that {spec.sdk} imports")
    problem = run_check(spec)
    if problem:
        raise RuntimeError(
            f"{spec.name}: installed, but {spec.sdk} does not import: {problem}. "
            f"Run `xinrt backend doctor {spec.name}`."
        )
    marker = {
        "name": spec.name,
        "sdk": spec.sdk,
        "digest": spec.digest(),
        "python": str(env_python(spec.name)),
        "install_s": round(time.perf_counter() - started, 1),
        "size_bytes": folder_size(target),
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (target / MARKER).write_text(json.dumps(marker, indent=2))
    log(
        f"{spec.name}: {spec.sdk} installed in {marker['install_s']} s, "
        f"{marker['size_bytes'] / 1e6:.0f} MB at {target}"
    )
    return marker


def _run(command: list[str], spec: EnvSpec, quiet: bool) -> None:
    env = {**os.environ, "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(command, env=env, capture_output=quiet, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or "").strip().splitlines()[-10:]) if quiet else ""
        raise RuntimeError(
            f"{spec.name}: `{' '.join(command)}` failed with exit status {done.returncode}"
            + (f":\n{tail}" if tail else "")
        )


def doctor(spec: EnvSpec) -> list[tuple[str, str]]:
    """What is missing for the SDK's worker, as (problem, how to fix it); empty when healthy."""
    problems: list[tuple[str, str]] = []
    fix_install = f"xinrt backend install {spec.name}"
    if not env_python(spec.name).exists():
        return [(f"no venv for {spec.sdk} at {env_dir(spec.name)}", fix_install)]
    marker = read_marker(spec.name)
    if marker is None:
        problems.append(("the last install did not finish", fix_install))
    elif marker.get("digest") != spec.digest():
        problems.append(("the venv was built with other pins than this xinrt's", fix_install))
    problem = run_check(spec)
    if problem:
        problems.append((f"{spec.sdk} does not import: {problem}", f"{fix_install} --force"))
    return problems
