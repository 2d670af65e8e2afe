"""`xinrt backend install NAME` and `xinrt backend doctor NAME`: the SDK worker venvs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import envs


def env_spec_for(name: str) -> envs.EnvSpec:
    """The venv spec of a backend: its class's `env_spec` (entry point `name`)."""
    from xinrt.backend import _entry_points
    from xinrt.errors import BackendNotFoundError

    base = name.partition(":")[0]
    entry = _entry_points().get(base)
    spec = getattr(entry.load(), "env_spec", None) if entry is not None else None
    if not isinstance(spec, envs.EnvSpec):
        raise BackendNotFoundError(
            f"backend {base!r} has no worker venv to install (it runs in xinrt's own process, "
            "or is not installed)"
        )
    return spec


def _cmd_install(args: argparse.Namespace) -> int:
    from xinrt.errors import XinrtError

    spec = env_spec_for(args.name)
    try:
        envs.install(spec, force=args.force, quiet=args.quiet)
    except RuntimeError as exc:
        raise XinrtError(str(exc)) from exc
    return 0


def _backend_doctor(name: str) -> int | None:
    """A backend with its own doctor() (e.g. ort:<ep>): print its diagnosis; None otherwise."""
    from xinrt.backend import _entry_points, get_backend

    entry = _entry_points().get(name.partition(":")[0])
    if entry is None or not callable(getattr(entry.load(), "doctor", None)):
        return None
    backend = get_backend(name)
    problems = backend.doctor()  # type: ignore[attr-defined]
    print(f"{backend.name}:")
    for device in backend.devices():
        print(f"  device: {device.name} [{device.kind}] {device.detail}")
    return _report(problems, "a one-node model runs correctly on it")


def _report(problems: list[tuple[str, str]], ok: str) -> int:
    """Print doctor's findings, each problem with its fix, or `ok`; the exit status (0: ok)."""
    if not problems:
        print(f"  ok: {ok}")
        return 0
    for problem, fix in problems:
        print(f"  missing: {problem}\n    fix: {fix}")
    sys.stdout.flush()
    return 1


def _cmd_doctor(args: argparse.Namespace) -> int:
    status = _backend_doctor(args.name)
    if status is not None:
        return status
    spec = env_spec_for(args.name)
    problems = envs.doctor(spec)
    print(f"{spec.name}: {spec.sdk}, venv {envs.env_dir(spec.name)}")
    marker = envs.read_marker(spec.name)
    if marker:
        print(
            f"  installed {marker.get('installed_at', '?')} in {marker.get('install_s', '?')} s, "
            f"{int(marker.get('size_bytes', 0)) / 1e6:.0f} MB"
        )
    if spec.notes:
        print(f"  note: {spec.notes}")
    return _report(problems, "the SDK imports in its worker venv")


def register(subparsers: Any) -> None:
    """Add `xinrt backend install|doctor NAME` to the xinrt command line."""
    backend = subparsers.add_parser("backend", help="install or check an SDK's worker venv")
    sub = backend.add_subparsers(dest="backend_command", required=True)
    install = sub.add_parser("install", help="create the SDK's venv with pinned versions")
    install.add_argument("name", help="rknn, nncase, or a plugin backend with a worker")
    install.add_argument("--force", action="store_true", help="delete and rebuild the venv")
    install.add_argument("--quiet", action="store_true", help="hide pip's own output")
    install.set_defaults(func=_cmd_install)
    doctor = sub.add_parser(
        "doctor", help="say what a backend (SDK worker, ORT execution provider) misses, and the fix"
    )
    doctor.add_argument("name")
    doctor.set_defaults(func=_cmd_doctor)
