"""`onnxruntime.capi._pybind_state`: in ORT a re-export of the C module; the same here."""

from __future__ import annotations

from typing import Any

from xinrt.capi import onnxruntime_pybind11_state as _state
from xinrt.capi.onnxruntime_pybind11_state import *  # noqa: F403


def __getattr__(name: str) -> Any:
    return getattr(_state, name)
