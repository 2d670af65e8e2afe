"""The SDK worker mechanism with a fake SDK adapter on xinrt's own Python: protocol, large
tensors through shared memory, SDK errors, crashes, hangs, leaked threads, concurrent callers.
Malformed replies, stalled workers and leftover files: tests/runtime/test_worker_faults.py."""

from __future__ import annotations

import io
import os
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from xinrt.worker import protocol, scratch
from xinrt.worker.client import Worker, WorkerCallError, WorkerCrashed, WorkerTimeout

# The fake SDK adapter that conftest.py's `worker` fixture serves.
ADAPTER = textwrap.dedent(
    """
    import os, sys, threading, time
    import numpy as np

    class Fake:
        def echo(self, args, arrays):
            print("stray text on stdout must not break the pipe")
            return {"seen": sorted(arrays), "tag": args.get("tag")}, {
                k: v * 2 for k, v in arrays.items()
            }
        def fail(self, args, arrays):
            raise ValueError("Not Supported Onnx op: Det")
        def crash(self, args, arrays):
            sys.stderr.write("Unhandled exception. System.NotSupportedException: Det\\n")
            sys.stderr.flush()
            os.abort()
        def hang(self, args, arrays):
            time.sleep(3600)
        def leak_thread(self, args, arrays):
            def spin():
                while True:
                    pass
            threading.Thread(target=spin).start()
            return {"pid": os.getpid()}, {}

    def create():
        return Fake()
    """
)


def test_protocol_round_trip_inline_and_through_shared_memory():
    small = np.arange(6, dtype=np.int64).reshape(2, 3)
    large = np.random.default_rng(0).standard_normal((512, 1024)).astype(np.float32)  # 2 MiB
    stream = io.BytesIO()
    prefix = str(scratch.private_folder("shm") / "roundtrip.")
    arrays_in = {"small": small, "large": large}
    shm_files = protocol.write_message(stream, {"x": 1}, arrays_in, prefix)
    assert shm_files == [prefix + "1"] and os.path.exists(shm_files[0])
    stream.seek(0)
    header, arrays = protocol.read_message(stream, prefix)
    os.unlink(shm_files[0])  # the parent's job, after every call
    assert header == {"x": 1}
    np.testing.assert_array_equal(arrays["small"], small)
    np.testing.assert_array_equal(arrays["large"], large)


def test_call_returns_arrays_and_ignores_stray_stdout(worker):
    x = np.arange(5, dtype=np.float32)
    result, arrays = worker.call("echo", {"tag": "t"}, {"x": x})
    assert result == {"seen": ["x"], "tag": "t"}
    np.testing.assert_array_equal(arrays["x"], x * 2)


def test_large_tensors_cross_through_shared_memory_both_ways(worker):
    big = np.random.default_rng(1).standard_normal((4, 1024, 1024)).astype(np.float32)  # 16 MiB
    _, arrays = worker.call("echo", {}, {"big": big})
    np.testing.assert_array_equal(arrays["big"], big * 2)
    assert os.listdir(scratch.private_folder("shm")) == [], "every call removes its files"


def test_sdk_error_names_the_sdk_and_keeps_the_worker(worker):
    worker.call("echo")
    pid = worker.pid
    with pytest.raises(WorkerCallError, match="fakesdk: ValueError: Not Supported Onnx op: Det"):
        worker.call("fail")
    assert worker.pid == pid


def test_crash_is_an_error_with_the_sdk_message_and_the_next_call_restarts(worker):
    with pytest.raises(WorkerCrashed) as caught:
        worker.call("crash")
    message = str(caught.value)
    assert "fakesdk" in message and "System.NotSupportedException: Det" in message
    assert "exit status" in message
    result, _ = worker.call("echo", {"tag": "again"})
    assert result["tag"] == "again" and worker.starts == 2


def test_hang_times_out_and_kills_the_worker(worker):
    worker.call("echo")
    pid = worker.pid
    started = time.monotonic()
    with pytest.raises(WorkerTimeout, match="no answer in time"):
        worker.call("hang", timeout_s=1.0)
    assert time.monotonic() - started < 10
    assert worker.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_leaked_busy_threads_die_with_the_worker(worker):
    result, _ = worker.call("leak_thread")
    worker.close()
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(result["pid"], 0)


def test_concurrent_callers_each_get_their_own_answer(worker):
    errors: list[str] = []

    def caller(index: int) -> None:
        for round_ in range(10):
            x = np.full((100,), index * 100 + round_, dtype=np.int32)
            _, arrays = worker.call("echo", {"tag": index}, {"x": x})
            if not np.array_equal(arrays["x"], x * 2):
                errors.append(f"caller {index} round {round_}")

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_an_adapter_that_does_not_import_is_a_crash_naming_the_reason(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import vendor_sdk_that_is_not_installed\n")
    worker = Worker("brokensdk", sys.executable, path)
    with pytest.raises(WorkerCrashed, match="does not load.*vendor_sdk_that_is_not_installed"):
        worker.call("echo")


def test_a_missing_interpreter_is_reported(tmp_path):
    worker = Worker("nosdk", tmp_path / "no-python", tmp_path / "adapter.py")
    with pytest.raises(WorkerCrashed, match="cannot start the worker"):
        worker.call("echo")
