"""ORT's devices for an execution provider (get_ep_devices), the one a backend name selects
(`ort:webgpu:1`), and how they read in `xinrt backends` and placement reports."""

from __future__ import annotations

from typing import Any

from xinrt.backend import Device

from .runtime import onnxruntime

_KINDS = {"CPU": "cpu", "GPU": "gpu", "NPU": "npu"}


def ep_devices(provider: str) -> list[Any]:
    """ORT's OrtEpDevice entries for `provider` (plugin EPs, and built-in EPs ORT lists)."""
    ort = onnxruntime()
    if ort is None or not hasattr(ort, "get_ep_devices"):
        return []
    return [d for d in ort.get_ep_devices() if d.ep_name == provider]


def _hardware_type(ep_device: Any) -> str:
    return str(ep_device.device.type).rsplit(".", 1)[-1]


def describe(ep_device: Any) -> str:
    """One line: vendor, hardware type, ids, memory where ORT tells, EP library version."""
    hardware = ep_device.device
    parts = [f"{hardware.vendor or 'unknown vendor'} {_hardware_type(ep_device)}"]
    parts.append(f"vendor_id 0x{hardware.vendor_id:04x} device_id 0x{hardware.device_id:04x}")
    hw_meta = dict(hardware.metadata)
    for key, value in hw_meta.items():
        if "memory" in key.lower() or key.lower() in ("description", "discrete"):
            parts.append(f"{key} {value}")
    ep_meta = dict(ep_device.ep_metadata)
    if ep_meta.get("version"):
        parts.append(f"EP {ep_device.ep_vendor} {ep_meta['version']}")
    if ep_meta.get("ov_device"):
        parts.append(f"ov_device {ep_meta['ov_device']}")
    return ", ".join(parts)


def as_device(provider: str, index: int, ep_device: Any) -> Device:
    """The xinrt Device for one of ORT's EP devices."""
    kind = _KINDS.get(_hardware_type(ep_device), "accelerator")
    hardware = f"{ep_device.device.vendor or 'unknown vendor'} {_hardware_type(ep_device)}"
    return Device(f"{provider}:{index} ({hardware})", kind, describe(ep_device))


def select(provider: str, index: int | None) -> list[Any]:
    """The EP devices a session should use: the one at `index`, else the first one."""
    found = ep_devices(provider)
    if not found:
        return []
    if index is None:
        return found[:1]
    return [found[index]] if index < len(found) else []
