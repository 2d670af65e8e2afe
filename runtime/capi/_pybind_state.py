"""`onnxruntime.capi._pybind_state`: in ORT a re-export of the C module; the same here."""

from __future__ import annotations

from xinrt.ort_compat.pybind_state import *  # noqa: F403
from xinrt.ort_compat.pybind_state import __all__ as __all__
from xinrt.ort_compat.pybind_state import __getattr__ as __getattr__
