"""xinrt's side of an SDK worker: start it, call it with a timeout, survive its death.

A `Worker` is one child process running `server.py` in an SDK's venv. Calls are serialised by
a lock (the SDK's objects live in that process); a crash, a hang past the timeout or a broken
pipe kills the process group and raises a `WorkerError` naming the SDK and quoting the tail of
what the SDK printed. The next call starts a fresh process.
"""

from __future__ import annotations

import itertools
import os
import select
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import protocol, scratch

SERVER = Path(__file__).with_name("server.py")
DEFAULT_TIMEOUT_S = 600.0


class WorkerError(Exception):
    """An SDK worker call failed; `log` holds the tail of what the SDK printed."""

    def __init__(self, sdk: str, message: str, log: str = "") -> None:
        super().__init__(f"{sdk}: {message}")
        self.sdk = sdk
        self.message = message
        self.log = log


class WorkerCrashed(WorkerError):
    """The worker process died (the SDK aborted, segfaulted or exited)."""


class WorkerTimeout(WorkerError):
    """The worker did not answer in time; it was killed."""


class WorkerCallError(WorkerError):
    """The SDK raised an error; the worker is still alive."""


class WorkerRestarted(WorkerError):
    """The call was for a worker process that has since been replaced (its state is gone)."""


class WorkerProtocolError(WorkerError):
    """The worker sent something that is not a valid reply; it was killed."""


class _DeadlineReader:
    """A binary reader over a pipe that raises TimeoutError once the deadline passes."""

    def __init__(self, fd: int, deadline: float | None) -> None:
        self.fd = fd
        self.deadline = deadline

    def read(self, count: int) -> bytes:
        _wait(self.fd, self.deadline, readable=True)
        return os.read(self.fd, min(count, 1 << 24))


class _DeadlineWriter:
    """A binary writer over a non-blocking pipe: raises TimeoutError once the deadline passes,
    so a stalled worker that stops reading cannot block the caller (the pipe holds 64 KiB)."""

    def __init__(self, fd: int, deadline: float | None) -> None:
        self.fd = fd
        self.deadline = deadline

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            _wait(self.fd, self.deadline, readable=False)
            try:
                written = os.write(self.fd, view[: 1 << 20])
            except BlockingIOError:
                continue
            view = view[written:]
        return total

    def flush(self) -> None:
        pass


def _wait(fd: int, deadline: float | None, readable: bool) -> None:
    """Block until `fd` is ready (or its other end closed), or raise TimeoutError at the
    deadline. poll, not select: select fails on descriptors above 1023."""
    left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
    poller = select.poll()
    poller.register(fd, select.POLLIN if readable else select.POLLOUT)
    if not poller.poll(None if left is None else left * 1000.0):
        raise TimeoutError


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()


def _remove_call_files(prefix: str) -> None:
    """The shared-memory files of one call (ours and what the worker wrote), read or not.

    (Not glob: every call has its own pattern, and fnmatch caches up to 32,768 of them.)"""
    folder, start = os.path.split(prefix)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(start):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def _tail(path: str, limit: int = 6000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - limit, 0))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _checked_reply(header: dict[str, Any]) -> dict[str, Any]:
    """A reply whose fields have the types the protocol promises, else ProtocolError."""
    ok = header.get("ok")
    if not isinstance(ok, bool):
        raise protocol.ProtocolError(f"reply field 'ok' is {ok!r}, not true/false")
    if ok and not isinstance(header.get("result", {}), (dict, type(None))):
        raise protocol.ProtocolError("reply field 'result' is not an object")
    for field in ("error", "traceback"):
        if not isinstance(header.get(field, ""), str):
            raise protocol.ProtocolError(f"reply field {field!r} is not a string")
    return header


class Worker:
    """One SDK worker process (started on the first call), safe to share between threads.

    Its log and working folder live in this process's private temp folder (`scratch`), one of
    each per Worker, reused across restarts and removed by `close()` or at exit; tensors of
    1 MiB and more cross through files this side names in the private /dev/shm folder and
    removes after every call, whatever happened."""

    def __init__(
        self,
        sdk: str,
        python: str | Path,
        adapter: str | Path,
        env: Mapping[str, str] | None = None,
        start_timeout_s: float = 120.0,
        preflight: Callable[[], str] | None = None,
    ) -> None:
        self.sdk = sdk
        self.python = str(python)
        self.adapter = str(adapter)
        self.env = dict(env or {})
        self.start_timeout_s = start_timeout_s
        self.preflight = preflight  # "" when the worker may start, else why not
        self.starts = 0  # how many processes this worker has started (restarts after crashes)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._calls = itertools.count()
        self._tag = f"{''.join(c if c.isalnum() else '_' for c in sdk)}-{next(_worker_ids)}"
        self._log_path = ""
        self._workdir = ""
        self._finalizer: weakref.finalize | None = None

    @property
    def pid(self) -> int | None:
        """The process id of the live worker, if any."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def call(
        self,
        method: str,
        args: dict[str, Any] | None = None,
        arrays: Mapping[str, np.ndarray] | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        generation: int | None = None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Call `method` of the SDK adapter; returns (result, arrays) or raises WorkerError.

        `timeout_s` bounds the whole exchange (sending the inputs and receiving the reply).
        With `generation` (a value of `starts`), the call is made only to that process: if it
        was replaced or is gone, WorkerRestarted is raised and nothing is started."""
        with self._lock:
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            if generation is not None and (self.pid is None or self.starts != generation):
                raise WorkerRestarted(
                    self.sdk, "the worker died and was restarted while this call waited"
                )
            if self.pid is None:
                self._start()
            header, out = self._exchange(method, args or {}, arrays or {}, deadline)
            if not header["ok"]:
                raise WorkerCallError(
                    self.sdk, str(header.get("error", "unknown error")), header.get("traceback", "")
                )
            return dict(header.get("result") or {}), out

    def close(self) -> None:
        """Ask the worker to exit, then kill it if it does not (threads an SDK leaked die too);
        its log and working folder go too."""
        with self._lock:
            self._stop(polite=True)
            _remove_files(self._log_path, self._workdir)
            self._log_path = self._workdir = ""

    def _start(self) -> None:
        self._stop(polite=False)
        problem = self.preflight() if self.preflight is not None else ""
        if problem:
            raise WorkerError(self.sdk, f"refusing to start the worker: {problem}")
        env = {**os.environ, **self.env, "PYTHONNOUSERSITE": "1", "PYTHONUNBUFFERED": "1"}
        env.pop("PYTHONPATH", None)  # xinrt's own packages must not leak into the SDK's Python
        env.pop("PYTHONHOME", None)
        work = scratch.private_folder("work")
        self._log_path = str(work / f"{self._tag}.log")
        # SDKs drop files in their working folder (rknn writes check*.onnx): a fresh one each start
        self._workdir = str(work / f"{self._tag}-work")
        shutil.rmtree(self._workdir, ignore_errors=True)
        try:
            os.mkdir(self._workdir, 0o700)
            with open(self._log_path, "wb") as log:  # truncated: one log per Worker, not per start
                process = subprocess.Popen(
                    [self.python, str(SERVER), self.adapter],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=env,
                    cwd=self._workdir,
                    start_new_session=True,
                )
        except OSError as exc:
            raise WorkerCrashed(
                self.sdk, f"cannot start the worker ({self.python}): {exc}"
            ) from exc
        assert process.stdin is not None
        os.set_blocking(process.stdin.fileno(), False)
        self._process = process
        self.starts += 1
        self._finalizer = weakref.finalize(self, _finish, process, self._log_path, self._workdir)
        header, _ = self._receive(time.monotonic() + self.start_timeout_s, "starting", None)
        if not header["ok"]:
            message = str(header.get("error", "the SDK did not load"))
            log_text = header.get("traceback", "")
            self._stop(polite=False)
            raise WorkerCrashed(
                self.sdk, f"the SDK does not load in its worker: {message}", log_text
            )

    def _exchange(
        self,
        method: str,
        args: dict[str, Any],
        arrays: Mapping[str, np.ndarray],
        deadline: float | None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Send one request and read its reply, both within `deadline`; the call's
        shared-memory files are removed on every path out."""
        process = self._process
        assert process is not None and process.stdin is not None
        prefix = str(scratch.private_folder("shm") / f"{process.pid}.{next(self._calls)}.")
        header = {"method": method, "args": args, "shm_in": prefix + "i", "shm_out": prefix + "o"}
        try:
            writer = _DeadlineWriter(process.stdin.fileno(), deadline)
            try:
                protocol.write_message(writer, header, dict(arrays), prefix + "i")  # type: ignore[arg-type]
            except TimeoutError:
                message = f"{method}: the worker stopped reading its input in time; it was killed"
                raise self._fail(WorkerTimeout, message) from None
            except OSError as exc:
                raise self._fail(WorkerCrashed, f"{method}: the pipe broke ({exc})") from None
            except (TypeError, ValueError) as exc:  # arguments that are not JSON: our bug
                raise self._fail(WorkerProtocolError, f"{method}: cannot send: {exc}") from None
            return self._receive(deadline, method, prefix + "o")
        finally:
            _remove_call_files(prefix)

    def _receive(
        self, deadline: float | None, what: str, shm_prefix: str | None
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self._process is not None and self._process.stdout is not None
        reader = _DeadlineReader(self._process.stdout.fileno(), deadline)
        try:
            header = _checked_reply(protocol.read_header(reader))  # type: ignore[arg-type]
            return header, protocol.read_arrays(header, reader, shm_prefix)  # type: ignore[arg-type]
        except TimeoutError:
            raise self._fail(
                WorkerTimeout, f"{what}: no answer in time; the worker was killed"
            ) from None
        except protocol.ProtocolError as exc:
            message = f"{what}: malformed reply ({exc}); the worker was killed"
            raise self._fail(WorkerProtocolError, message) from None
        except (EOFError, OSError) as exc:
            raise self._fail(WorkerCrashed, f"{what}: {exc}") from None

    def _fail(self, kind: type[WorkerError], message: str) -> WorkerError:
        """Stop the worker and build the error, quoting the last lines the SDK printed."""
        process = self._process
        code: int | None = None
        if kind is WorkerCrashed and process is not None:
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self._stop(polite=False)
        log = _tail(self._log_path)
        last = [line.strip() for line in log.strip().splitlines() if line.strip()][-3:]
        if kind is WorkerCrashed:
            status = f"exit status {code}" if code is not None else "no exit status"
            message = f"worker died during {message} ({status})"
        if last:
            message += "; the SDK said: " + " | ".join(last)
        return kind(self.sdk, message, log)

    def _stop(self, polite: bool) -> None:
        process = self._process
        if process is None:
            return
        if polite and process.poll() is None and process.stdin is not None:
            try:
                writer = _DeadlineWriter(process.stdin.fileno(), time.monotonic() + 5)
                protocol.write_message(writer, {"method": "exit"})  # type: ignore[arg-type]
                process.wait(timeout=5)
            except (OSError, TimeoutError, subprocess.TimeoutExpired):
                pass
        try:
            _finish(process, "", "")
        finally:
            if self._finalizer is not None:
                self._finalizer.detach()
            self._process = None


_worker_ids = itertools.count(1)


def _finish(process: subprocess.Popen[bytes], log_path: str, workdir: str) -> None:
    """Kill a worker's process group (children an SDK left behind too), close its pipes, and
    remove the files it had, if named."""
    if process.poll() is None:
        _kill(process)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    _remove_files(log_path, workdir)


def _remove_files(log_path: str, workdir: str) -> None:
    if log_path:
        try:
            os.unlink(log_path)
        except OSError:
            pass
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
