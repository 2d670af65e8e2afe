"""ONNX Runtime execution-provider names <-> xinrt backend names, for code migrating from ORT."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Union

from ..errors import InvalidArgumentError

# ORT provider name -> the `ort:<ep>` target; CPU is the plain `ort` backend.
EP_TARGETS = {
    "CPUExecutionProvider": "",
    "CUDAExecutionProvider": "cuda",
    "TensorrtExecutionProvider": "tensorrt",
    "CANNExecutionProvider": "cann",
    "OpenVINOExecutionProvider": "openvino",
    "MIGraphXExecutionProvider": "migraphx",
    "ROCMExecutionProvider": "rocm",
    "QNNExecutionProvider": "qnn",
    "CoreMLExecutionProvider": "coreml",
    "DmlExecutionProvider": "dml",
    "XnnpackExecutionProvider": "xnnpack",
    "VitisAIExecutionProvider": "vitisai",
    "WebGpuExecutionProvider": "webgpu",
    "NvTensorRTRTXExecutionProvider": "nv_tensorrt_rtx",
    "AzureExecutionProvider": "azure",
}

# The pip package that brings each execution provider, for "not installed" messages.
EP_PACKAGES = {
    "cuda": "onnxruntime-gpu",
    "tensorrt": "onnxruntime-gpu (plus TensorRT libraries)",
    "cann": "onnxruntime-cann",
    "openvino": "onnxruntime-ep-openvino (plugin EP) or onnxruntime-openvino",
    "migraphx": "onnxruntime-migraphx",
    "rocm": "onnxruntime-rocm",
    "qnn": "onnxruntime-qnn",
    "coreml": "onnxruntime (macOS build)",
    "dml": "onnxruntime-directml",
    "vitisai": "onnxruntime-vitisai",
    "nv_tensorrt_rtx": "onnxruntime-ep-nv-tensorrt-rtx (plugin EP)",
    "webgpu": "onnxruntime-ep-webgpu (plugin EP; needs a Vulkan driver on Linux)",
}

ProviderSpec = Union[str, tuple[str, dict[str, Any]]]


def backend_for_provider(provider: str) -> str:
    """The xinrt backend name for an ORT provider name (unknown EPs map to ort:<lowercase>)."""
    if provider in EP_TARGETS:
        target = EP_TARGETS[provider]
    elif provider.endswith("ExecutionProvider"):
        target = provider[: -len("ExecutionProvider")].lower()
    else:
        raise InvalidArgumentError(
            f"{provider!r} is not an ONNX Runtime execution provider name "
            "(expected e.g. 'CUDAExecutionProvider'); use backends=[...] for xinrt backend names"
        )
    return f"ort:{target}" if target else "ort"


def backends_from_providers(
    providers: Sequence[ProviderSpec], available: Sequence[str]
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Map an ORT providers list to backend names; unavailable ones are dropped with a warning,
    as ONNX Runtime does. Returns (backends, per-backend provider options)."""
    backends: list[str] = []
    options: dict[str, dict[str, Any]] = {}
    for spec in providers:
        name, opts = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
        backend = backend_for_provider(name)
        if backend not in available:
            warnings.warn(
                f"provider {name!r} is not available here (xinrt backend {backend!r}); "
                "falling back to the remaining providers",
                RuntimeWarning,
                stacklevel=4,
            )
            continue
        backends.append(backend)
        options[backend] = opts
    return backends, options


def provider_names(backends: Sequence[str]) -> list[str]:
    """ORT provider names for backend names: ort:<ep> -> its EP; CPU backends -> CPU EP."""
    by_target = {target: provider for provider, target in EP_TARGETS.items()}
    names: list[str] = []
    for backend in backends:
        base, _, target = backend.partition(":")
        if base == "ort" and target:
            name = by_target.get(target, f"{target}ExecutionProvider")
        else:
            name = "CPUExecutionProvider"  # xinrt's cpu and reference backends run on the CPU
        if name not in names:
            names.append(name)
    return names
