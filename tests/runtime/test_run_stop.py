"""Issue 16 item 4: a running model stops on RunOptions.terminate (set from another thread), on
RunOptions.timeout_s and on Ctrl-C (KeyboardInterrupt on the main thread), inside a Loop of
10**12 iterations on the native backend; the session stays usable afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt
from tests.helpers import make_model, tensor

pytest.importorskip("xinrt._native")
ROOT = Path(__file__).resolve().parents[2]
# Generous on a loaded 2-core CI machine; the stop itself is polled every few milliseconds.
STOP_WITHIN_S = 5.0


def endless_loop_model(trips: int = 10**12) -> onnx.ModelProto:
    """x[2] -> Loop(trips) { state + 1 } -> y."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
            helper.make_node("Add", ["state", "one"], ["state_out"], name="inc"),
        ],
        "body",
        [
            tensor("i", [], TensorProto.INT64),
            tensor("cond_in", [], TensorProto.BOOL),
            tensor("state", [2]),
        ],
        [tensor("cond_out", [], TensorProto.BOOL), tensor("state_out", [2])],
        initializer=[numpy_helper.from_array(np.ones(2, np.float32), "one")],
    )
    nodes = [helper.make_node("Loop", ["trips", "cond", "x"], ["y"], name="endless", body=body)]
    inits = [
        numpy_helper.from_array(np.array(trips, np.int64), "trips"),
        numpy_helper.from_array(np.array(True), "cond"),
    ]
    return make_model(nodes, [tensor("x", [2])], [tensor("y", [2])], inits, opset=17)


@pytest.fixture(scope="module")
def session() -> xinrt.InferenceSession:
    return xinrt.InferenceSession(endless_loop_model(), backends=["cpu"])


def _x() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(2).astype(np.float32)


def test_terminate_from_another_thread_stops_a_running_loop(session):
    options = xinrt.RunOptions()
    stopped_at: list[float] = []

    def stop_soon() -> None:
        time.sleep(0.3)
        stopped_at.append(time.monotonic())
        options.terminate = True

    thread = threading.Thread(target=stop_soon)
    thread.start()
    with pytest.raises(xinrt.ExecutionError, match="terminate"):
        session.run(None, {"x": _x()}, options)
    latency = time.monotonic() - stopped_at[0]
    thread.join()
    assert latency < STOP_WITHIN_S


def test_timeout_s_stops_a_running_loop(session):
    start = time.monotonic()
    with pytest.raises(xinrt.ExecutionError, match="timeout_s"):
        session.run(None, {"x": _x()}, xinrt.RunOptions(timeout_s=0.3))
    assert time.monotonic() - start < 0.3 + STOP_WITHIN_S


@pytest.mark.parametrize("bad", [0, -1.0, "1", True])
def test_timeout_s_must_be_a_positive_number(session, bad):
    with pytest.raises(xinrt.InvalidArgumentError, match="timeout_s"):
        session.run(None, {"x": _x()}, xinrt.RunOptions(timeout_s=bad))


def test_session_runs_again_after_a_stop(session):
    with pytest.raises(xinrt.ExecutionError):
        session.run(None, {"x": _x()}, xinrt.RunOptions(timeout_s=0.05))
    short = xinrt.InferenceSession(endless_loop_model(trips=5), backends=["cpu"])
    options = xinrt.RunOptions(timeout_s=60)
    np.testing.assert_allclose(short.run(None, {"x": _x()}, options)[0], _x() + 5, rtol=1e-6)


def test_ctrl_c_raises_keyboard_interrupt_in_a_running_loop():
    script = textwrap.dedent(
        """
        import sys, time
        import numpy as np
        import xinrt
        from tests.runtime.test_run_stop import endless_loop_model
        sess = xinrt.InferenceSession(endless_loop_model(), backends=["cpu"])
        print("ready", flush=True)
        try:
            sess.run(None, {"x": np.zeros(2, np.float32)})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished?", flush=True)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", (
            child.stderr.read() if child.stderr else ""
        )
        time.sleep(0.5)  # inside the Loop by now
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline().strip()
        latency = time.monotonic() - sent
        assert line == "interrupted", child.stderr.read() if child.stderr else ""
        assert child.wait(timeout=30) == 0
        assert latency < STOP_WITHIN_S
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
