"""Plugin EP registration (ORT's path rules, installed packages), devices, doctor, hard checks."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import onnxruntime as ort
import pytest
from onnx import helper

from tests.helpers import make_model, tensor
from xinrt import BackendNotFoundError, InvalidArgumentError
from xinrt.backend import get_backend
from xinrt.backends.ort import register_ep_library
from xinrt.backends.ort.plugins import (
    _convention_packages,
    _registered,
    installed_plugin_packages,
    resolve_library_path,
)
from xinrt.backends.ort.sessions import missing_provider
from xinrt.cli import main

CAPI = Path(ort.__file__).resolve().parent / "capi"
HAS_WEBGPU_PACKAGE = importlib.util.find_spec("onnxruntime_ep_webgpu") is not None


def test_relative_library_paths_resolve_inside_onnxruntime_capi_as_ort_does(tmp_path, monkeypatch):
    assert resolve_library_path("libfoo.so") == CAPI / "libfoo.so"
    assert resolve_library_path(tmp_path / "libfoo.so") == tmp_path / "libfoo.so"
    (tmp_path / "libhere.so").write_bytes(b"")
    monkeypatch.chdir(tmp_path)  # a file next to the caller is not what ORT would load
    with pytest.raises(InvalidArgumentError, match="ORT resolves relative paths in .*capi"):
        register_ep_library("here", "libhere.so")


@pytest.mark.skipif(not HAS_WEBGPU_PACKAGE, reason="onnxruntime-ep-webgpu is not installed")
def test_a_relative_path_from_onnxruntime_capi_registers_the_library():
    import onnxruntime_ep_webgpu

    library = Path(onnxruntime_ep_webgpu.get_library_path()).resolve()
    relative = Path("..", "..", *library.relative_to(CAPI.parent.parent).parts)
    register_ep_library("webgpu-relative", relative)  # no error: ORT found and loaded it
    ort.unregister_execution_provider_library("webgpu-relative")  # one WebGPU factory only
    _registered.pop("webgpu-relative")


@pytest.mark.skipif(not HAS_WEBGPU_PACKAGE, reason="onnxruntime-ep-webgpu is not installed")
def test_installed_onnxruntime_ep_packages_are_registered_without_setup():
    get_backend("ort")
    packages = {p.distribution: p for p in installed_plugin_packages()}
    webgpu = packages["onnxruntime-ep-webgpu"]
    assert webgpu.registration_name == "webgpu" and not webgpu.error
    assert webgpu.ep_names == ["WebGpuExecutionProvider"]
    assert Path(webgpu.library).is_file()


def test_plugin_packages_are_found_by_name_without_reading_every_packages_metadata(
    tmp_path, monkeypatch
):
    for folder, name in [
        ("onnxruntime_ep_fake-1.0.dist-info", "onnxruntime-ep-fake"),
        ("some_other_package-2.0.dist-info", "some-other-package"),
    ]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    read: list[str] = []
    original = importlib.metadata.PathDistribution.read_text

    def recording(self, filename):
        if filename == "METADATA":
            read.append(Path(str(self._path)).name)
        return original(self, filename)

    monkeypatch.setattr(importlib.metadata.PathDistribution, "read_text", recording)
    found = {
        registration: dist.metadata["Name"] for dist, registration, _ in _convention_packages()
    }
    assert found["fake"] == "onnxruntime-ep-fake"
    assert "some_other_package-2.0.dist-info" not in read
    assert all(name.lower().startswith("onnxruntime_ep") for name in read)


def test_a_device_index_beyond_orts_devices_is_unavailable_with_the_count():
    backend = get_backend("ort:xnnpack:3")
    assert backend.devices() == []
    assert "XnnpackExecutionProvider" in backend.unavailable_reason()
    with pytest.raises(BackendNotFoundError, match="device index"):
        get_backend("ort:webgpu:first")


def test_a_session_ort_built_without_the_ep_asked_for_is_refused():
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [tensor("x", [2])],
        [tensor("y", [2])],
    )
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    reason = missing_provider(session, "WebGpuExecutionProvider")
    assert "without WebGpuExecutionProvider" in reason
    assert missing_provider(session, "CPUExecutionProvider") == ""


def test_doctor_names_the_package_an_ep_needs(capsys):
    assert main(["backend", "doctor", "ort:nv_tensorrt_rtx"]) == 1
    out = capsys.readouterr().out
    assert "missing: NvTensorRTRTXExecutionProvider" in out
    assert "pip install onnxruntime-ep-nv-tensorrt-rtx" in out


def test_doctor_runs_a_node_on_orts_cpu_ep(capsys):
    assert main(["backend", "doctor", "ort"]) == 0
    out = capsys.readouterr().out
    assert "ok: a one-node model runs correctly" in out
