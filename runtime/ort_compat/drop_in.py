"""Run programs written for onnxruntime on xinrt, unmodified.

    xinrt exec [--backends a,b] [--strict] [--report] -- python app.py ARGS
    python -m xinrt.drop_in [--backends ...] app.py ARGS
    xinrt.install_as_onnxruntime()          # in a notebook

After install(), `import onnxruntime` (and `onnxruntime.capi.onnxruntime_pybind11_state`) give
xinrt's ORT-compatible module. xinrt's own `ort` backend finds the real onnxruntime through the
import system whatever `sys.modules["onnxruntime"]` holds (xinrt.backends.ort.real_ort), so
nothing recurses, whoever made the alias and whenever.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import runpy
import subprocess
import sys
import tempfile
import types
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_SESSIONS: weakref.WeakSet = weakref.WeakSet()
_SITECUSTOMIZE = "import xinrt.ort_compat.drop_in as _d\n_d.install_from_environment()\n"


def _module(name: str, source: dict[str, object], doc: str) -> types.ModuleType:
    module = types.ModuleType(name, doc)
    module.__dict__.update({k: v for k, v in source.items() if not k.startswith("__")})
    return module


def install() -> None:
    """Make `import onnxruntime` resolve to xinrt in this process (idempotent)."""
    if getattr(sys.modules.get("onnxruntime"), "__xinrt__", False):
        return
    from xinrt.ort_compat import pybind_state as state
    from xinrt.ort_compat.module import namespace

    names = namespace()
    shim = _module("onnxruntime", names, "xinrt, standing in for onnxruntime")
    shim.__dict__["__version__"] = names["__version__"]
    shim.__dict__["__xinrt__"] = True
    # programs find ORT's folder from onnxruntime.__file__: the ORT-compat package's stands in
    shim.__file__ = str(Path(__file__).with_name("__init__.py"))
    shim.InferenceSession = _tracked_session_class()  # type: ignore[attr-defined]
    capi = names["capi"]
    shim.__path__ = []  # a package, so `import onnxruntime.capi...` looks in sys.modules
    for key in [k for k in sys.modules if k == "onnxruntime" or k.startswith("onnxruntime.")]:
        del sys.modules[key]
    sys.modules["onnxruntime"] = shim
    sys.modules["onnxruntime.capi"] = capi
    sys.modules["onnxruntime.capi.onnxruntime_pybind11_state"] = state
    sys.modules["onnxruntime.capi._pybind_state"] = state
    sys.modules["onnxruntime.backend"] = names["backend"]


def _tracked_session_class() -> type:
    """InferenceSession that remembers its instances, for the --report summary at exit."""
    from xinrt.session import InferenceSession

    class TrackedInferenceSession(InferenceSession):
        __doc__ = InferenceSession.__doc__

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if os.environ.get("XINRT_STRICT") == "1":
                from xinrt.options import SessionOptions

                names = ("path_or_bytes", "sess_options", "providers", "provider_options")
                kwargs = {**dict(zip(names, args)), **kwargs}
                args = ()
                options = kwargs.get("sess_options") or SessionOptions()
                kwargs["sess_options"] = dataclasses.replace(options, strict=True)
            super().__init__(*args, **kwargs)
            _SESSIONS.add(self)

    TrackedInferenceSession.__name__ = "InferenceSession"
    TrackedInferenceSession.__qualname__ = "InferenceSession"
    return TrackedInferenceSession


def _report() -> None:
    sessions = list(_SESSIONS)
    print(f"\n[xinrt] {len(sessions)} session(s) in this process", file=sys.stderr)
    for session in sessions:
        print(session.placement, file=sys.stderr)


def install_from_environment() -> None:
    """Called by the sitecustomize that `xinrt exec` puts on PYTHONPATH."""
    if os.environ.get("XINRT_DROP_IN") != "1":
        return
    install()
    if os.environ.get("XINRT_REPORT") == "1":
        atexit.register(_report)


def _environment(backends: str | None, strict: bool, report: bool) -> dict[str, str]:
    env = {"XINRT_DROP_IN": "1"}
    if backends:
        env["XINRT_BACKENDS"] = backends
    if strict:
        env["XINRT_STRICT"] = "1"
    if report:
        env["XINRT_REPORT"] = "1"
    return env


def exec_command(command: Sequence[str], backends: str | None, strict: bool, report: bool) -> int:
    """Run any command (python app.py, a console script ...) with onnxruntime -> xinrt in its
    Python processes, through a sitecustomize placed first on PYTHONPATH."""
    if not command:
        from xinrt.errors import InvalidArgumentError

        raise InvalidArgumentError("xinrt exec needs a command after --, e.g. -- python app.py")
    with tempfile.TemporaryDirectory(prefix="xinrt-drop-in-") as folder:
        Path(folder, "sitecustomize.py").write_text(_SITECUSTOMIZE)
        env = dict(os.environ)
        env.update(_environment(backends, strict, report))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [folder, env.get("PYTHONPATH")]))
        try:
            return subprocess.call(list(command), env=env)
        except OSError as exc:  # not found, not executable (a .py file given alone) ...
            from xinrt.errors import InvalidArgumentError

            why = "command not found" if isinstance(exc, FileNotFoundError) else exc.strerror
            raise InvalidArgumentError(
                f"xinrt exec: {why}: {command[0]} (run a script as: xinrt exec -- python "
                f"{command[0]})"
            ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m xinrt.drop_in [--backends LIST] [--strict] [--report] app.py ARGS`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m xinrt.drop_in")
    parser.add_argument("--backends")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    os.environ.update(_environment(args.backends, args.strict, args.report))
    install_from_environment()
    sys.argv = [args.script, *args.args]
    runpy.run_path(args.script, run_name="__main__")
    return 0
