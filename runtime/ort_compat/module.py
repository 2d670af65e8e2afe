"""The `onnxruntime` module as xinrt gives it under the drop-in: ORT's names, xinrt's objects."""

from __future__ import annotations

from typing import Any

from ..version import __version__
from . import api, pybind_state


def namespace() -> dict[str, Any]:
    """Name -> object for the stand-in `onnxruntime` module: every name of ORT's C module that
    xinrt implements (sessions, options, OrtValue, exceptions ...) and the module functions."""
    names: dict[str, Any] = {
        name: getattr(pybind_state, name)
        for name in pybind_state.__all__
        if name not in pybind_state.UNSUPPORTED
    }
    names["preload_dlls"] = api.preload_dlls
    names["__version__"] = f"{api.ORT_API_VERSION}+xinrt{__version__}"
    return names
