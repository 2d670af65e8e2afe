"""The `onnxruntime` module as xinrt gives it under the drop-in: ORT's names, xinrt's objects.

`onnxruntime.backend` (ORT's implementation of onnx's backend API: prepare, run,
supports_device, is_compatible) is xinrt's onnx-backend adapter, `xinrt.onnx_backend`; xinrt's
own `xinrt.backend` is the backend contract and is not what `onnxruntime.backend` names.
"""

from __future__ import annotations

import types
from typing import Any

from ..version import __version__
from . import api, pybind_state
from .binding import IOBinding
from .objects import OrtDeviceVendorId


def print_debug_info() -> None:
    """ORT's debugging summary: here xinrt's version and backends."""
    from ..backend import available_backends

    print(api.get_build_info())
    print(f"onnxruntime API {api.ORT_API_VERSION} on xinrt {__version__}")
    print(f"usable backends: {', '.join(available_backends())}")


# Names of ORT's module that are Python-level helpers, with what xinrt gives for them.
_HELPERS: dict[str, Any] = {
    "preload_dlls": api.preload_dlls,
    "set_global_thread_pool_sizes": api.set_global_thread_pool_sizes,
    "get_version_string": api.get_version_string,
    "version": f"{api.ORT_API_VERSION}+xinrt{__version__}",
    "package_name": "onnxruntime",
    "cuda_version": "",
    "IOBinding": IOBinding,
    "OrtDeviceVendorId": OrtDeviceVendorId,
    "print_debug_info": print_debug_info,
    "import_capi_exception": None,  # ORT's: the error of importing its C module, if any
}


def backend_module() -> types.ModuleType:
    """`onnxruntime.backend`: prepare / run / run_model / supports_device / is_compatible."""
    from .. import onnx_backend

    module = types.ModuleType("onnxruntime.backend", onnx_backend.__doc__)
    for name in ("prepare", "run_model", "run_node", "supports_device", "is_compatible"):
        setattr(module, name, getattr(onnx_backend, name))
    module.run = onnx_backend.run_model  # type: ignore[attr-defined]  # ORT's alias
    module.OnnxRuntimeBackend = onnx_backend.XinrtBackend  # type: ignore[attr-defined]
    module.OnnxRuntimeBackendRep = onnx_backend.XinrtBackendRep  # type: ignore[attr-defined]
    return module


def capi_module() -> types.ModuleType:
    """`onnxruntime.capi`: its C module under both of ORT's names."""
    module = types.ModuleType("onnxruntime.capi", "xinrt.capi")
    module.onnxruntime_pybind11_state = pybind_state  # type: ignore[attr-defined]
    module._pybind_state = pybind_state  # type: ignore[attr-defined]
    module.__path__ = []  # type: ignore[attr-defined]  # a package: submodules via sys.modules
    return module


def namespace() -> dict[str, Any]:
    """Name -> object for the stand-in `onnxruntime` module: every name of ORT's C module that
    xinrt implements or refuses at use (sessions, options, OrtValue, OrtDevice, exceptions ...),
    the module functions and `backend`."""
    names: dict[str, Any] = {name: getattr(pybind_state, name) for name in pybind_state.__all__}
    names.update(_HELPERS)
    names["backend"] = backend_module()
    names["capi"] = capi_module()
    names["__version__"] = names["version"]
    return names
