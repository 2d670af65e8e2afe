"""The worker process: runs inside an SDK's venv, serves one SDK adapter over stdin/stdout.

    <venv>/bin/python server.py ADAPTER.py

The adapter module defines `create() -> object`; each request names one of that object's
methods, called as `method(args: dict, arrays: dict) -> (result: dict, arrays: dict)`.
Only the standard library, numpy, this folder and the adapter's own imports (the SDK) are
used here: never xinrt, whose native parts need not load in the SDK's Python.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import traceback
from typing import Any

PROTOCOL_FD = -1  # the pipe to xinrt once main() runs; adapters must never write to it


def _die_with_parent() -> None:
    """Exit when xinrt's process goes away, even while the SDK is busy in the main thread.

    (PR_SET_PDEATHSIG would fire when the *thread* that started us ends, not the process.)"""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="xinrt-parent-watch", daemon=True).start()


def _protocol_streams() -> tuple[Any, Any]:
    """Keep the real stdin/stdout for messages; send anything else printed to stderr."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto_in, proto_out


def _load_adapter(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("xinrt_sdk_adapter", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load SDK adapter {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create()


def main(argv: list[str]) -> int:
    _die_with_parent()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import protocol

    global PROTOCOL_FD
    proto_in, proto_out = _protocol_streams()
    PROTOCOL_FD = proto_out.fileno()
    try:
        adapter = _load_adapter(argv[1])
    except BaseException as exc:  # report why the SDK does not import, then stop
        protocol.write_message(proto_out, _failure(exc))
        return 3
    protocol.write_message(proto_out, {"ok": True, "ready": True, "pid": os.getpid()})
    while True:
        try:
            request = protocol.read_header(proto_in)
            shm_in, shm_out = request.get("shm_in"), request.get("shm_out")
            arrays = protocol.read_arrays(request, proto_in, _prefix(shm_in))
        except EOFError:
            return 0
        except protocol.ProtocolError as exc:  # not from xinrt: stop; xinrt starts a new worker
            sys.stderr.write(f"xinrt worker: bad request: {exc}\n")
            return 4
        method = str(request.get("method", ""))
        if method == "exit":
            protocol.write_message(proto_out, {"ok": True})
            return 0
        try:
            function = getattr(adapter, method, None)
            if function is None or method.startswith("_"):
                raise AttributeError(f"the SDK adapter has no method {method!r}")
            result, out_arrays = function(request.get("args", {}), arrays)
            reply: dict[str, Any] = {"ok": True, "result": result}
        except Exception as exc:  # every SDK failure goes back to xinrt as a message
            reply, out_arrays = _failure(exc), {}
        try:
            protocol.write_message(proto_out, reply, out_arrays, _prefix(shm_out))
        except (TypeError, ValueError) as exc:  # a result that is not JSON: nothing sent yet
            protocol.write_message(proto_out, _failure(exc))


def _prefix(value: Any) -> str | None:
    """A shared-memory prefix xinrt offered (a string), else None: send inline."""
    return value if isinstance(value, str) and value else None


def _failure(exc: BaseException) -> dict[str, Any]:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    message = str(exc).strip() or type(exc).__name__
    return {
        "ok": False,
        "error": f"{type(exc).__name__}: {message}",
        "traceback": "".join(lines)[-4000:],
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv))
