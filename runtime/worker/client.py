"""xinrt's side of an SDK worker: start it, call it with a timeout, survive its death.

A `Worker` is one child process running `server.py` in an SDK's venv. Calls are serialised by
a lock (the SDK's objects live in that process); a crash, a hang past the timeout or a broken
pipe kills the process group and raises a `WorkerError` naming the SDK and quoting the tail of
what the SDK printed. The next call starts a fresh process.
"""

from __future__ import annotations

import glob
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import protocol

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


class _DeadlineReader:
    """A binary reader over a pipe that raises TimeoutError once the deadline passes."""

    def __init__(self, fd: int, deadline: float | None) -> None:
        self.fd = fd
        self.deadline = deadline

    def read(self, count: int) -> bytes:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0.0))
            if not ready:
                raise TimeoutError
        return os.read(self.fd, min(count, 1 << 24))


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()


def _remove_shm_files(pid: int) -> None:
    """Shared-memory files a dead worker wrote but nobody read."""
    for path in glob.glob(os.path.join(protocol.shm_folder(), f"xinrt-{pid}-*")):
        try:
            os.unlink(path)
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


class Worker:
    """One SDK worker process (started on the first call), safe to share between threads."""

    def __init__(
        self,
        sdk: str,
        python: str | Path,
        adapter: str | Path,
        env: Mapping[str, str] | None = None,
        start_timeout_s: float = 120.0,
    ) -> None:
        self.sdk = sdk
        self.python = str(python)
        self.adapter = str(adapter)
        self.env = dict(env or {})
        self.start_timeout_s = start_timeout_s
        self.starts = 0  # how many processes this worker has started (restarts after crashes)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stdin: IO[bytes] | None = None
        self._log_path = ""
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
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Call `method` of the SDK adapter; returns (result, arrays) or raises WorkerError."""
        with self._lock:
            if self.pid is None:
                self._start()
            header, out = self._exchange({"method": method, "args": args or {}}, arrays, timeout_s)
            if not header.get("ok"):
                raise WorkerCallError(
                    self.sdk, str(header.get("error", "unknown error")), header.get("traceback", "")
                )
            return dict(header.get("result") or {}), out

    def close(self) -> None:
        """Ask the worker to exit, then kill it if it does not (threads an SDK leaked die too)."""
        with self._lock:
            self._stop(polite=True)
            self._forget_log()

    def _forget_log(self) -> None:
        if self._log_path:
            try:
                os.unlink(self._log_path)
            except OSError:
                pass
            self._log_path = ""

    def _start(self) -> None:
        self._stop(polite=False)
        self._forget_log()
        env = {**os.environ, **self.env, "PYTHONNOUSERSITE": "1", "PYTHONUNBUFFERED": "1"}
        env.pop("PYTHONPATH", None)  # xinrt's own packages must not leak into the SDK's Python
        env.pop("PYTHONHOME", None)
        log = tempfile.NamedTemporaryFile(prefix=f"xinrt-{self.sdk}-", suffix=".log", delete=False)
        # SDKs drop files in their working folder (rknn writes check*.onnx): give them their own
        workdir = tempfile.mkdtemp(prefix=f"xinrt-{self.sdk}-work-")
        weakref.finalize(self, shutil.rmtree, workdir, True)
        self._log_path = log.name
        try:
            process = subprocess.Popen(
                [self.python, str(SERVER), self.adapter],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=workdir,
                start_new_session=True,
            )
        except OSError as exc:
            raise WorkerCrashed(
                self.sdk, f"cannot start the worker ({self.python}): {exc}"
            ) from exc
        finally:
            log.close()
        self._process = process
        self._stdin = process.stdin
        self.starts += 1
        self._finalizer = weakref.finalize(self, _kill, process)
        header, _ = self._receive(time.monotonic() + self.start_timeout_s, "starting")
        if not header.get("ok"):
            message = str(header.get("error", "the SDK did not load"))
            log_text = header.get("traceback", "")
            self._stop(polite=False)
            raise WorkerCrashed(
                self.sdk, f"the SDK does not load in its worker: {message}", log_text
            )

    def _exchange(
        self,
        header: dict[str, Any],
        arrays: Mapping[str, np.ndarray] | None,
        timeout_s: float | None,
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self._stdin is not None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        try:
            sent = protocol.write_message(self._stdin, header, dict(arrays or {}))
        except OSError as exc:
            message = f"{header['method']}: the pipe broke ({exc})"
            raise self._fail(WorkerCrashed, message, []) from None
        return self._receive(deadline, str(header["method"]), sent)

    def _receive(
        self, deadline: float | None, what: str, sent: list[str] | None = None
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self._process is not None and self._process.stdout is not None
        reader = _DeadlineReader(self._process.stdout.fileno(), deadline)
        try:
            return protocol.read_message(reader)  # type: ignore[arg-type]
        except TimeoutError:
            raise self._fail(
                WorkerTimeout, f"{what}: no answer in time; the worker was killed", sent
            ) from None
        except (EOFError, protocol.ProtocolError, OSError) as exc:
            raise self._fail(WorkerCrashed, f"{what}: {exc}", sent) from None

    def _fail(self, kind: type[WorkerError], message: str, sent: list[str] | None) -> WorkerError:
        """Stop the worker and build the error, quoting the last lines the SDK printed."""
        process = self._process
        code: int | None = None
        if kind is WorkerCrashed and process is not None:
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        for path in sent or []:
            try:
                os.unlink(path)
            except OSError:
                pass
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
        if polite and process.poll() is None and self._stdin is not None:
            try:
                protocol.write_message(self._stdin, {"method": "exit"})
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:
            if process.poll() is None:
                _kill(process)
            else:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # children the SDK left behind
                except (ProcessLookupError, PermissionError):
                    pass
        finally:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
            _remove_shm_files(process.pid)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._process = None
            self._stdin = None
