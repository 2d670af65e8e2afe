"""Plugin EPs on ORT's EP ABI: WebGPU on Vulkan (lavapipe in CI) and OpenVINO, end to end.

CI installs Mesa's lavapipe (.ci/run) and sets XINRT_REQUIRE_WEBGPU=1: then these tests install
the `webgpu` extra (onnxruntime-ep-webgpu, pinned in pyproject.toml) into this venv when it is
missing, and a missing piece fails them instead of skipping them.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REQUIRE_WEBGPU = os.environ.get("XINRT_REQUIRE_WEBGPU", "") not in ("", "0")


def _install_webgpu_extra() -> None:
    """pip-install the `webgpu` extra's pins into this venv (the EP runs in a worker process,
    which sees the new package)."""
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        pins = tomllib.load(f)["project"]["optional-dependencies"]["webgpu"]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *pins],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    importlib.invalidate_caches()


def _webgpu_missing() -> str:
    """Why WebGPU cannot run here ("" when the package, Vulkan and a GPU or lavapipe exist)."""
    if importlib.util.find_spec("onnxruntime_ep_webgpu") is None and REQUIRE_WEBGPU:
        _install_webgpu_extra()
    if importlib.util.find_spec("onnxruntime_ep_webgpu") is None:
        return "onnxruntime-ep-webgpu is not installed (pip install onnxruntime-ep-webgpu)"
    try:
        ctypes.CDLL("libvulkan.so.1")
    except OSError:
        return "no Vulkan loader (apt install libvulkan1)"
    icds = glob.glob("/usr/share/vulkan/icd.d/*.json") + glob.glob("/etc/vulkan/icd.d/*.json")
    if not icds:
        return "no Vulkan driver (apt install -t bookworm-backports mesa-vulkan-drivers)"
    return ""


def _run_worker(backend: str, model: str) -> dict[str, object]:
    env = dict(os.environ)
    if not glob.glob("/sys/class/drm/card[0-9]*"):
        env.setdefault("ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER", "1")  # lavapipe: Vulkan on the CPU
    done = subprocess.run(
        [sys.executable, "-m", "tests.backends.ort.ep_worker", backend, model],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _webgpu_result(model: str, backend: str = "ort:webgpu") -> dict[str, object]:
    missing = _webgpu_missing()
    if missing:
        if REQUIRE_WEBGPU:
            pytest.fail(f"XINRT_REQUIRE_WEBGPU is set but {missing}")
        pytest.skip(missing)
    result = _run_worker(backend, model)
    if "unavailable" in result:
        message = f"{backend} unavailable: {result['unavailable']}; doctor: {result['doctor']}"
        if REQUIRE_WEBGPU:
            pytest.fail(message)
        pytest.skip(message)
    return result


def _check_mostly_on_webgpu(result: dict[str, object], backend: str = "ort:webgpu") -> None:
    coverage = result["coverage"]
    assert isinstance(coverage, dict)
    assert coverage[backend] >= 0.99, result
    assert set(coverage) <= {backend, "cpu"} and abs(sum(coverage.values()) - 1) < 1e-9
    assert result["allclose_rtol_1e-3"], result
    assert result["capability"] in ("assignment info", "profiled run"), result
    devices = result["devices"]
    assert isinstance(devices, dict)
    assert any(name.startswith("WebGpuExecutionProvider:") for name in devices[backend])
    details = result["partition_details"]
    assert isinstance(details, list) and details
    assert all(d["ep"] == "WebGpuExecutionProvider" and d["device"] for d in details)


def test_light_resnet50_runs_on_webgpu_with_orts_answers():
    result = _webgpu_result("resnet50")
    _check_mostly_on_webgpu(result)
    # WebGPU has no kernel for opset-9 Sum: ORT runs those on its CPU EP, xinrt on `cpu`.
    assert result["declined"] == [
        "ORT gives it to CPUExecutionProvider, not WebGpuExecutionProvider, in this model "
        "(assignment info)"
    ]


def test_small_transformer_runs_on_the_first_webgpu_device_with_orts_answers():
    _check_mostly_on_webgpu(_webgpu_result("transformer", "ort:webgpu:0"), "ort:webgpu:0")


def test_a_partition_the_ep_cannot_hold_whole_declines_only_the_node_ort_keeps_on_cpu():
    declined = _webgpu_result("compile-decline")["declined"]
    assert isinstance(declined, dict) and list(declined) == ["sum"], declined
    assert "CPUExecutionProvider" in declined["sum"]


def test_openvino_plugin_runs_a_transformer_on_its_cpu_device():
    if importlib.util.find_spec("onnxruntime_ep_openvino") is None:
        pytest.skip("onnxruntime-ep-openvino is not installed")
    result = _run_worker("ort:openvino", "transformer")
    if "unavailable" in result:
        pytest.skip(f"ort:openvino lists no device here: {result['doctor']}")
    coverage = result["coverage"]
    assert isinstance(coverage, dict) and coverage["ort:openvino"] >= 0.99, result
    assert result["allclose_rtol_1e-3"], result
