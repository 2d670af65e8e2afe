"""The real onnxruntime package, found through the import system even when `onnxruntime` is
an alias of xinrt (`sys.modules["onnxruntime"] = xinrt`, or `xinrt exec`).

xinrt must never call itself as its own `ort` backend: that recursed without end. Importing
this module gives `real_onnxruntime`, or raises ImportError when only xinrt answers to the name.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

_LOCK = threading.Lock()


def is_xinrt(module: object) -> bool:
    """Whether a module that answers to `onnxruntime` is xinrt (or xinrt's stand-in)."""
    name = str(getattr(module, "__name__", ""))
    return bool(getattr(module, "__xinrt__", False)) or name.split(".")[0] == "xinrt"


def _ort_entries() -> dict[str, ModuleType]:
    return {
        key: module
        for key, module in list(sys.modules.items())
        if key == "onnxruntime" or key.startswith("onnxruntime.")
    }


def find_real_onnxruntime() -> ModuleType | None:
    """The real onnxruntime module, or None when it is not installed.

    An alias in sys.modules is set aside while the real package imports (its own modules import
    `onnxruntime.capi...` by absolute name), then put back, so the program keeps its alias.
    """
    with _LOCK:
        if "onnxruntime" in sys.modules and sys.modules["onnxruntime"] is None:
            return None  # the import system's own way to block a module: respected
        current = sys.modules.get("onnxruntime")
        if current is not None and not is_xinrt(current):
            return current
        aliases = _ort_entries()
        for key in aliases:
            del sys.modules[key]
        try:
            module: ModuleType | None = importlib.import_module("onnxruntime")
        except ImportError:
            module = None
        finally:
            if aliases:
                for key in _ort_entries():
                    del sys.modules[key]
                sys.modules.update(aliases)
        return None if module is None or is_xinrt(module) else module


_found = find_real_onnxruntime()
if _found is None:
    raise ImportError(
        "the real onnxruntime is not installed (`onnxruntime` here is xinrt itself or absent); "
        "pip install onnxruntime for xinrt's ort backend"
    )
real_onnxruntime: Any = _found  # untyped, as `import onnxruntime` is
