"""`xinrt backend doctor ort:<ep>`: what an ORT execution provider is missing here, and the fix."""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Any, Protocol

import numpy as np
from onnx import TensorProto, helper

from xinrt.ort_compat.providers import EP_PACKAGES

from . import devices as ep_devices
from .plugins import installed_plugin_packages
from .runtime import onnxruntime
from .session_model import SessionModel
from .sessions import CPU, create_session, missing_provider, session_options


class DiagnosedBackend(Protocol):
    """What the doctor reads of an OrtBackend (a protocol: backend.py imports this file)."""

    provider: str
    ep_target: str
    device_index: int | None

    def _selected_devices(self) -> list[Any]: ...


SOFTWARE_ADAPTER_ENV = "ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER"


def _vulkan_problems() -> list[tuple[str, str]]:
    """WebGPU on Linux runs on Vulkan: the loader, a driver (ICD), and a GPU ORT can see."""
    problems: list[tuple[str, str]] = []
    try:
        ctypes.CDLL("libvulkan.so.1")
    except OSError:
        problems.append(
            (
                "the Vulkan loader libvulkan.so.1",
                "install it (Debian/Ubuntu: apt install libvulkan1)",
            )
        )
    icds = [
        f
        for d in ("/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d")
        for f in glob.glob(f"{d}/*.json")
    ]
    if (
        not icds
        and not os.environ.get("VK_ICD_FILENAMES")
        and not os.environ.get("VK_DRIVER_FILES")
    ):
        problems.append(
            (
                "a Vulkan driver (no ICD file in /usr/share/vulkan/icd.d)",
                "install the GPU vendor's Vulkan driver, or Mesa's (apt install "
                "mesa-vulkan-drivers; lavapipe, Vulkan on the CPU, needs Mesa >= 23: Debian "
                "bookworm-backports)",
            )
        )
    gpus = glob.glob("/sys/class/drm/card[0-9]*")
    if not gpus and os.environ.get(SOFTWARE_ADAPTER_ENV) != "1":
        problems.append(
            (
                "a GPU: ORT lists a WebGPU device only for a GPU under /sys/class/drm",
                f"on a machine without a GPU set {SOFTWARE_ADAPTER_ENV}=1 to use a software "
                "Vulkan adapter such as lavapipe",
            )
        )
    return problems


def _smoke_test(backend: DiagnosedBackend) -> str:
    """Run one Add on the EP alone and compare with numpy: "" when it works, else the error."""
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("Add", ["x", "y"], ["z"], name="add")],
            "doctor",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, [4, 8]) for n in "xy"],
            [helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, 8])],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    from xinrt.backend import CompileOptions

    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal((4, 8)).astype(np.float32) for _ in range(2))
    try:
        session = create_session(
            SessionModel(model.SerializeToString()),
            session_options(CompileOptions(intra_op_num_threads=1), 3),
            backend.provider,
            backend._selected_devices(),
        )
        missing = missing_provider(session, backend.provider)
        if missing:
            return missing
        (z,) = session.run(None, {"x": x, "y": y})
    except Exception as exc:  # whatever ORT or the EP raises is the diagnosis
        return str(exc).strip().splitlines()[-1][:400] if str(exc).strip() else type(exc).__name__
    if not np.allclose(z, x + y, rtol=1e-5, atol=1e-6):
        return (
            f"{backend.provider} computed Add wrongly (max error {np.abs(z - (x + y)).max():.3g})"
        )
    return ""


def diagnose(backend: DiagnosedBackend) -> list[tuple[str, str]]:
    """(what is missing, how to fix it); empty when the backend runs a node correctly here."""
    ort = onnxruntime()
    if ort is None:
        return [("onnxruntime", "pip install onnxruntime (or xinrt[ort])")]
    provider, target = backend.provider, backend.ep_target
    package = EP_PACKAGES.get(target, f"the package that brings {provider}")
    plugins = [
        p
        for p in installed_plugin_packages()
        if provider in p.ep_names or p.registration_name == target
    ]
    problems: list[tuple[str, str]] = []
    for plugin in plugins:
        if plugin.error:
            problems.append(
                (
                    f"{plugin.distribution} {plugin.version} is installed but not registered: "
                    f"{plugin.error}",
                    "install an onnxruntime version the plugin supports (its README names the "
                    "minimum), or re-install the plugin package",
                )
            )
    listed = ep_devices.ep_devices(provider) if provider != CPU else []
    if provider != CPU and provider not in ort.get_available_providers() and not listed:
        if not plugins:
            problems.append(
                (f"{provider} (no installed package brings it)", f"pip install {package}")
            )
        if provider == "WebGpuExecutionProvider":
            problems += _vulkan_problems()
        elif plugins and not problems:
            problems.append(
                (
                    f"a device: {provider} is registered but reports no supported device here",
                    "the EP's factory found no hardware it supports: check the vendor's hardware "
                    "and driver requirements",
                )
            )
        return problems
    if backend.device_index is not None and backend.device_index >= len(listed):
        problems.append(
            (
                f"device {backend.device_index} of {provider} (ORT lists {len(listed)})",
                f"use ort:{target}:<index> with an index below {len(listed)}",
            )
        )
        return problems
    failure = _smoke_test(backend)
    if failure:
        fix = "see the EP's error above"
        if provider == "WebGpuExecutionProvider":
            extra = _vulkan_problems()
            fix = "; ".join(f for _, f in extra) or (
                "the Vulkan driver cannot serve WebGPU (lavapipe needs Mesa >= 23; Debian: "
                "apt install -t bookworm-backports mesa-vulkan-drivers)"
            )
        problems.append((f"a working {provider} session: {failure}", fix))
    return problems


def describe_devices(backend: Any) -> list[str]:
    """Lines naming the devices the backend would use."""
    return [f"{d.name} [{d.kind}] {d.detail}" for d in backend.devices()]
