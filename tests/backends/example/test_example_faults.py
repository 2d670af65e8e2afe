"""The example backend's session when things go wrong on purpose: tampered cache entries,
worker restarts of an int8 partition, workers killed, stopped or answering garbage during
runs, a full disk, a read-only or untrusted cache folder, an untrusted worker venv."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import threading
import time

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt
from tests.backends.example.registered import registered_example
from xinrt import backend as backend_module
from xinrt import cache, compile_cache
from xinrt.backends.example.backend import ExampleBackend
from xinrt.cache import cache_dir
from xinrt.passes.legalize import evaluate

WEIGHTS = (np.arange(8, dtype=np.float32) * 0.25 + 0.5).reshape(2, 4)


@pytest.fixture(autouse=True)
def example_backend(tmp_path, monkeypatch):
    """Register `example` (as pyproject does once installed) with a private cache folder."""
    yield from registered_example(monkeypatch, tmp_path / "cache")


def _add_relu_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    nodes = [
        helper.make_node("Add", ["x", "w"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y], [numpy_helper.from_array(WEIGHTS, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _feeds(seed=3):
    return {"x": np.random.default_rng(seed).standard_normal((2, 4)).astype(np.float32)}


def _want(feeds):
    return np.maximum(feeds["x"] + WEIGHTS, 0)


def _session(model=None, options=None):
    # Priority placement: these tests need the partition on the example NPU, whatever is faster.
    options = options or xinrt.SessionOptions()
    options.placement = "priority"
    return xinrt.InferenceSession(
        model or _add_relu_model(), options, backends=["example:v1", "cpu"]
    )


def _npu_details(session):
    (partition,) = [p for p in session.placement.partitions if p.backend == "example:v1"]
    return partition.details


def _entry_files():
    (entry,) = compile_cache.entries("example:v1")
    folder = compile_cache.compiled_root() / "example_v1"
    return folder / f"{entry.key}.bin", folder / f"{entry.key}.json"


def _tamper_weights(artifact_path):
    data = artifact_path.read_bytes()
    assert WEIGHTS.tobytes() in data, "the fake SDK's artifact carries the weights"
    artifact_path.write_bytes(data.replace(WEIGHTS.tobytes(), (WEIGHTS + 20).tobytes()))


def test_a_cache_hit_is_verified_again_and_reports_fresh_figures():
    _session()
    details = _npu_details(_session())
    assert details["cache"] == "hit" and details["max_abs_err"] == 0.0
    assert details["cosine"] == 1.0 and "saved_s" in details


def test_an_artifact_edited_after_compile_fails_its_hash_and_is_recompiled():
    _session()
    artifact, _ = _entry_files()
    _tamper_weights(artifact)
    session = _session()
    details = _npu_details(session)
    assert details["cache"] == "miss", "an entry whose bytes changed is not a hit"
    np.testing.assert_allclose(session.run(None, _feeds())[0], _want(_feeds()), rtol=1e-6)
    artifact, _ = _entry_files()
    assert WEIGHTS.tobytes() in artifact.read_bytes(), "the entry was replaced by a fresh one"


def test_an_edited_artifact_with_a_matching_hash_fails_reverification_and_is_recompiled():
    _session()
    artifact, meta_path = _entry_files()
    _tamper_weights(artifact)
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(artifact.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta))
    session = _session()
    details = _npu_details(session)
    assert details["cache"] == "miss" and details["max_abs_err"] == 0.0
    assert "failed verification" in details["cache_dropped"]
    assert "differs from the reference" in details["cache_dropped"]
    np.testing.assert_allclose(session.run(None, _feeds())[0], _want(_feeds()), rtol=1e-6)
    assert _npu_details(_session())["cache"] == "hit"


def _matmul_model():
    rng = np.random.default_rng(11)
    weights = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    model = helper.make_model(
        helper.make_graph([node], "g", [x], [y], [weights]),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 8
    return model


def test_an_int8_partition_rebuilt_after_a_worker_crash_keeps_the_calibration_data():
    rng = np.random.default_rng(5)
    real = [{"x": (rng.standard_normal((2, 8)) * 4).astype(np.float32)} for _ in range(4)]
    options = xinrt.SessionOptions(precision="int8", calibration_data=real)
    session = _session(_matmul_model(), options)
    assert _npu_details(session)["precision"] == "int8"
    feeds = {"x": (rng.standard_normal((2, 8)) * 4).astype(np.float32)}
    before = session.run(None, feeds)[0]
    reference = evaluate(_matmul_model(), feeds)["y"]
    assert np.max(np.abs(before - reference)) < 0.05 * np.max(np.abs(reference))
    backend = backend_module.get_backend("example:v1")
    _kill_and_wait(backend)
    after = session.run(None, feeds)[0]  # rebuilt in a fresh worker
    assert backend.worker.starts == 2
    np.testing.assert_array_equal(after, before)


def _kill_and_wait(backend):
    pid = backend.worker.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while backend.worker.pid == pid and time.monotonic() < deadline:
        time.sleep(0.01)


def _run_checked(session, feeds):
    """One run: the right answer or an ExecutionError, never anything else."""
    try:
        out = session.run(None, feeds)[0]
    except xinrt.ExecutionError as exc:
        return str(exc)
    np.testing.assert_allclose(out, _want(feeds), rtol=1e-6)
    return ""


def test_workers_killed_during_runs_the_session_recovers_every_time():
    session = _session()
    backend = backend_module.get_backend("example:v1")
    errors: list[str] = []
    done = threading.Event()

    def runner():
        while not done.is_set():
            errors.append(_run_checked(session, _feeds(len(errors))))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    killed = 0
    deadline = time.monotonic() + 60
    while killed < 3 and time.monotonic() < deadline:
        pid = backend.worker.pid
        if pid is not None and len(errors) > 4 * (killed + 1):
            os.kill(pid, signal.SIGKILL)
            killed += 1
        time.sleep(0.005)
    done.set()
    for thread in threads:
        thread.join()
    assert killed == 3
    assert all(e == "" or "worker died" in e for e in errors), set(errors)
    assert _run_checked(session, _feeds()) == ""


def test_a_stopped_worker_times_out_and_the_session_recovers(monkeypatch):
    monkeypatch.setattr(ExampleBackend, "run_timeout_s", 2.0)
    session = _session()
    backend = backend_module.get_backend("example:v1")
    for _ in range(2):
        assert _run_checked(session, _feeds()) == ""
        os.kill(backend.worker.pid, signal.SIGSTOP)
        with pytest.raises(xinrt.ExecutionError, match="no answer in time"):
            session.run(None, _feeds())
    assert _run_checked(session, _feeds()) == ""


def test_a_worker_answering_garbage_is_one_execution_error_and_the_session_recovers():
    session = _session()
    for _ in range(2):
        assert _run_checked(session, _feeds()) == ""
        garbage = {"x": np.full((2, 4), np.inf, np.float32)}  # the fake SDK answers garbage
        with pytest.raises(xinrt.ExecutionError, match="malformed reply.*worker was killed"):
            session.run(None, garbage)
    assert _run_checked(session, _feeds()) == ""


def test_a_full_disk_leaves_no_half_entries_and_sessions_work_uncached(monkeypatch):
    def full(handle, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "write_bytes", full)
    for _ in range(2):
        session = _session()
        assert _npu_details(session)["cache"] == "miss"
        assert _run_checked(session, _feeds()) == ""
    assert compile_cache.entries() == []
    assert [p.name for p in cache_dir().rglob("*") if p.is_file()] == []


def test_a_read_only_cache_folder_still_serves_hits_and_new_models_run_uncached(monkeypatch):
    _session()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cache.tempfile, "mkstemp", read_only)
    assert _npu_details(_session())["cache"] == "hit"
    other = _session(_neg_model())
    assert _npu_details(other)["cache"] == "miss"
    assert len(compile_cache.entries()) == 1


def _neg_model():
    model = _add_relu_model()
    model.graph.node[1].op_type = "Neg"
    return model


def test_a_cache_folder_writable_by_others_is_ignored_with_a_warning():
    _session()
    os.chmod(cache_dir(), 0o777)
    cache._warned.clear()
    with pytest.warns(RuntimeWarning, match="ignoring the cache folder.*writable by group"):
        session = _session()
    assert _npu_details(session)["cache"] == "miss"
    assert _run_checked(session, _feeds()) == ""
    os.chmod(cache_dir(), 0o700)
    assert _npu_details(_session())["cache"] == "hit"


def test_outputs_of_the_wrong_size_are_an_execution_error_and_unit_dims_are_restored(
    monkeypatch,
):
    session = _session()
    worker = backend_module.get_backend("example:v1").worker
    real = worker.call
    flat = np.arange(8, dtype=np.float32)

    def answer(shape):
        def call(method, args=None, arrays=None, timeout_s=None, generation=None):
            if method != "run":
                return real(method, args, arrays, timeout_s)
            return {}, {"y": flat[: int(np.prod(shape))].reshape(shape)}

        return call

    monkeypatch.setattr(worker, "call", answer((1, 2, 4)))  # an SDK that adds a unit dim
    np.testing.assert_array_equal(session.run(None, _feeds())[0], flat.reshape(2, 4))
    monkeypatch.setattr(worker, "call", answer((3,)))
    with pytest.raises(xinrt.ExecutionError, match=r"output 'y' came back with shape \[3\]"):
        session.run(None, _feeds())
