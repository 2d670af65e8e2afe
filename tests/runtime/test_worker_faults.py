"""A worker that misbehaves cannot hang, fool or litter xinrt: malformed replies (each one kills
the worker and raises one error, the next call starts a fresh one), a stalled worker while
xinrt sends, shared-memory files (0600, private folder, names xinrt chooses, always removed),
and what a worker start or a killed xinrt process leaves behind."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest

from xinrt.worker import protocol, scratch
from xinrt.worker.client import (
    Worker,
    WorkerCrashed,
    WorkerError,
    WorkerProtocolError,
    WorkerTimeout,
)

# The fake SDK adapter that conftest.py's `worker` fixture serves.
ADAPTER = textwrap.dedent(
    """
    import json, os, struct, time
    import numpy as np
    import __main__

    def _raw(header, payload=b""):
        text = json.dumps(header).encode()
        os.write(__main__.PROTOCOL_FD, struct.pack("<Q", len(text)) + text + payload)

    class Fake:
        def echo(self, args, arrays):
            return {"n": len(arrays)}, {k: v + 1 for k, v in arrays.items()}
        def garbage(self, args, arrays):
            os.write(__main__.PROTOCOL_FD, b"\\x00\\x10 not a message at all" * 50)
            time.sleep(3600)
        def reply(self, args, arrays):  # a hand-made reply header, then silence
            _raw(args["header"], bytes(args.get("payload", 0)))
            time.sleep(3600)
        def result_not_object(self, args, arrays):
            return "a string", {}
        def object_array(self, args, arrays):
            return {}, {"y": np.array([object(), object()], dtype=object)}
        def big_reply(self, args, arrays):
            return {}, {"y": np.ones((512, 1024), np.float32)}
        def crash(self, args, arrays):
            os.abort()
        def sleep(self, args, arrays):
            time.sleep(float(args["s"]))
            return {}, {}

    def create():
        return Fake()
    """
)


def _frame(header: object, payload: bytes = b"") -> io.BytesIO:
    text = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(text)) + text + payload)


ENTRY = {"name": "x", "dtype": "<f4", "shape": [2], "nbytes": 8}
MALFORMED = {
    "header is a list": _frame([1, 2]),
    "header is not JSON": io.BytesIO(struct.pack("<Q", 5) + b"{nope"),
    "header length huge": io.BytesIO(struct.pack("<Q", 180388626432) + b"{}"),
    "header length zero": io.BytesIO(struct.pack("<Q", 0)),
    "arrays not a list": _frame({"ok": True, "arrays": {"x": 1}}),
    "entry not an object": _frame({"ok": True, "arrays": [3]}),
    "name missing": _frame({"ok": True, "arrays": [{**ENTRY, "name": None}]}),
    "dtype unknown": _frame({"ok": True, "arrays": [{**ENTRY, "dtype": "<q9"}]}),
    "dtype object": _frame({"ok": True, "arrays": [{**ENTRY, "dtype": "|O"}]}),
    "dtype string": _frame({"ok": True, "arrays": [{**ENTRY, "dtype": "<U3"}]}),
    "shape not a list": _frame({"ok": True, "arrays": [{**ENTRY, "shape": "2"}]}),
    "shape negative": _frame({"ok": True, "arrays": [{**ENTRY, "shape": [-2]}]}),
    "shape float": _frame({"ok": True, "arrays": [{**ENTRY, "shape": [2.0]}]}),
    "nbytes negative": _frame({"ok": True, "arrays": [{**ENTRY, "nbytes": -8}]}),
    "nbytes huge": _frame({"ok": True, "arrays": [{**ENTRY, "nbytes": 1 << 62}]}),
    "nbytes disagrees": _frame({"ok": True, "arrays": [{**ENTRY, "nbytes": 4}]}),
    "nbytes missing": _frame({"ok": True, "arrays": [{**ENTRY, "nbytes": None}]}),
    "shape huge": _frame({"ok": True, "arrays": [{**ENTRY, "shape": [1 << 40, 1 << 40]}]}),
    "names repeat": _frame({"ok": True, "arrays": [ENTRY, ENTRY]}, bytes(16)),
    "shm names a path": _frame({"ok": True, "arrays": [{**ENTRY, "shm": "/etc/passwd"}]}),
    "payload short": _frame({"ok": True, "arrays": [ENTRY]}, bytes(3)),
}


@pytest.mark.parametrize("fault", sorted(MALFORMED))
def test_every_malformed_message_is_one_protocol_error_at_once(fault):
    stream = MALFORMED[fault]
    stream.seek(0)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_message(stream, shm_prefix=None)


def test_a_valid_message_still_reads():
    header, arrays = protocol.read_message(
        _frame({"ok": True, "arrays": [ENTRY]}, np.array([1, 2], np.float32).tobytes())
    )
    assert header == {"ok": True} and arrays["x"].tolist() == [1.0, 2.0]


def _assert_replaced(worker: Worker, pid: int | None) -> None:
    """The misbehaving process is gone and the next call runs in a fresh one."""
    assert worker.pid is None
    if pid is not None:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    result, arrays = worker.call("echo", {}, {"x": np.zeros(3, np.float32)}, timeout_s=30)
    assert result == {"n": 1} and arrays["x"].tolist() == [1.0, 1.0, 1.0]


REPLIES = {
    "garbage bytes": ("garbage", {}),
    "ok not a bool": ("reply", {"header": {"ok": "yes", "arrays": []}}),
    "result not an object": ("result_not_object", {}),
    "error not a string": ("reply", {"header": {"ok": False, "error": 7, "arrays": []}}),
    "object array": (
        "reply",
        {"header": {"ok": True, "arrays": [{**ENTRY, "dtype": "|O"}]}, "payload": 16},
    ),
    "negative byte count": (
        "reply",
        {"header": {"ok": True, "arrays": [{**ENTRY, "nbytes": -1}]}},
    ),
    "huge byte count": (
        "reply",
        {"header": {"ok": True, "arrays": [{**ENTRY, "shape": [1 << 40], "nbytes": 1 << 42}]}},
    ),
    "shm path of its choosing": (
        "reply",
        {"header": {"ok": True, "arrays": [{**ENTRY, "shm": "VICTIM"}]}},
    ),
    "missing keys": ("reply", {"header": {"arrays": []}}),
}


@pytest.mark.parametrize("fault", sorted(REPLIES))
def test_a_malformed_reply_kills_the_worker_and_raises_one_error(worker, fault, tmp_path):
    method, args = REPLIES[fault]
    victim = tmp_path / "victim.txt"
    victim.write_text("must survive")
    text = json.dumps(args).replace("VICTIM", str(victim))
    worker.call("echo")
    pid = worker.pid
    started = time.monotonic()
    with pytest.raises(WorkerProtocolError, match="malformed reply.*the worker was killed"):
        worker.call(method, json.loads(text), timeout_s=60)
    assert time.monotonic() - started < 20, "a malformed reply fails at once, not at the timeout"
    assert victim.read_text() == "must survive"
    _assert_replaced(worker, pid)


@pytest.mark.parametrize("size", [64 << 10, 512 << 10, 1 << 20])
def test_sending_to_a_stopped_worker_times_out(worker, size):
    worker.call("echo")
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    payload = np.zeros(size // 4, np.float32)
    started = time.monotonic()
    with pytest.raises(WorkerTimeout, match="echo"):
        worker.call("echo", {}, {"x": payload}, timeout_s=1.0)
    assert time.monotonic() - started < 10
    _assert_replaced(worker, pid)


def test_the_deadline_covers_send_and_receive_together(worker):
    with pytest.raises(WorkerTimeout, match="no answer in time"):
        worker.call("sleep", {"s": 30}, timeout_s=1.0)
    _assert_replaced(worker, None)


def test_shared_memory_files_are_private_and_named_by_xinrt(monkeypatch):
    folder = scratch.private_folder("shm")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert folder.name.startswith(f"xinrt-{os.getpid()}-")
    written: list[tuple[str, int]] = []
    real = protocol._write_shm

    def spy(path, array):
        real(path, array)
        written.append((path, stat.S_IMODE(os.stat(path).st_mode)))

    monkeypatch.setattr(protocol, "_write_shm", spy)
    prefix = str(folder / "t.")
    protocol.write_message(io.BytesIO(), {}, {"big": np.ones(1 << 18, np.float32)}, prefix)
    assert written == [(prefix + "0", 0o600)]
    os.unlink(prefix + "0")
    (folder / "t.0").write_text("planted")  # a planted file (or link) is never written through
    stream = io.BytesIO()
    assert protocol.write_message(stream, {}, {"big": np.ones(1 << 18, np.float32)}, prefix) == []
    assert (folder / "t.0").read_text() == "planted"
    stream.seek(0)
    assert protocol.read_message(stream)[1]["big"].sum() == 1 << 18, "sent inline instead"
    os.unlink(prefix + "0")


def test_a_full_shared_memory_folder_sends_through_the_pipe(worker, monkeypatch):
    def full(path, array):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(protocol, "_write_shm", full)
    big = np.ones((512, 1024), np.float32)
    _, arrays = worker.call("echo", {}, {"x": big})
    np.testing.assert_array_equal(arrays["x"], big + 1)


def test_large_replies_and_inputs_leave_no_file_on_any_path(worker):
    big = np.ones((512, 1024), np.float32)  # 2 MiB: both ways through shared memory
    worker.call("echo", {}, {"x": big})
    worker.call("big_reply")
    with pytest.raises(WorkerTimeout):
        worker.call("sleep", {"s": 30}, {"x": big}, timeout_s=1.0)
    with pytest.raises(WorkerError):
        worker.call("object_array", {}, {"x": big})
    assert os.listdir(scratch.private_folder("shm")) == []


def test_worker_starts_leave_one_log_and_one_folder_and_close_removes_them(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scratch, "_folders", {})
    adapter = tmp_path / "adapter.py"
    adapter.write_text(ADAPTER)
    worker = Worker("fakesdk", sys.executable, adapter)
    for _ in range(3):  # four starts: three after a crash
        with pytest.raises(WorkerCrashed):
            worker.call("crash", {}, {"x": np.ones((512, 1024), np.float32)})
    worker.call("echo")
    assert worker.starts == 4
    (work,) = [p for p in tmp_path.iterdir() if p.name.startswith("xinrt-")]
    assert sorted(p.suffix or "dir" for p in work.iterdir()) == [".log", "dir"]
    worker.close()
    assert list(work.iterdir()) == []
    scratch._remove_own_folders()
    assert [p.name for p in tmp_path.iterdir()] == ["adapter.py"]


KILLED_MID_RUN = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import numpy as np
    from xinrt.worker.client import Worker

    worker = Worker("fakesdk", sys.executable, sys.argv[1])
    big = np.ones((512, 1024), np.float32)
    threading.Thread(target=worker.call, args=("sleep", {"s": 60}, {"x": big}), daemon=True).start()
    time.sleep(3)  # the worker holds a 2 MiB input file now
    print(os.getpid(), worker.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_xinrt_process_is_swept_at_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    adapter = tmp_path / "adapter.py"
    adapter.write_text(ADAPTER)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_MID_RUN, str(adapter)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    parent, child = (int(v) for v in done.stdout.split())
    left = [
        root / name
        for root in (scratch.shm_root(), tmp_path)
        for name in os.listdir(root)
        if name.startswith(f"xinrt-{parent}-")
    ]
    assert len(left) == 2, "the killed process left its shm and work folders"
    assert any(os.listdir(p) for p in left), "with files in them"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the orphaned worker notices within a second
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    assert scratch.sweep_stale(scratch.shm_root()) >= 1
    assert scratch.sweep_stale(tmp_path) == 1
    assert not [p for p in left if p.exists()]
    mine = scratch.private_folder("shm")
    assert scratch.sweep_stale(scratch.shm_root()) == 0 and mine.is_dir(), "live ones stay"
