"""`xinrt.capi.onnxruntime_pybind11_state`: ORT's C-module names, from
`xinrt.ort_compat.pybind_state` (absolute imports: this file is also loaded as
`onnxruntime.capi.onnxruntime_pybind11_state` when a program sets
`sys.modules["onnxruntime"] = xinrt`, and must then give the same classes, not copies)."""

from __future__ import annotations

from xinrt.ort_compat.pybind_state import *  # noqa: F403
from xinrt.ort_compat.pybind_state import __all__ as __all__
from xinrt.ort_compat.pybind_state import __getattr__ as __getattr__
