"""Defer onnx_ir's `import sympy` until something uses it.

onnx_ir imports sympy (about a third of a second, more than onnx_ir itself) for the arithmetic
of symbolic dims (`SymbolicDim("N") + 1`), which loading, placing and running a model never
does. At import, onnx_ir's `_core` only binds the names `sympy` and `_symbolic_shapes`; the
latter reads `sympy.Max` and friends into a table as it is imported, so both stand deferred:
each is a stand-in module until an attribute of it is first read, which imports the real module
(once, under a lock: sessions are built in several threads at once) and answers from it. Until
then `import sympy` anywhere gets the stand-in, which acts as the module; afterwards it gets the
real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import types
from importlib.machinery import ModuleSpec
from typing import Any

_LOCK = threading.RLock()


class DeferredModule(types.ModuleType):
    """Stands in `sys.modules` for a module not imported yet; the first attribute read imports
    it and takes the stand-in out of `sys.modules`."""

    def __init__(self, name: str, spec: ModuleSpec) -> None:
        super().__init__(name)
        self.__spec__ = spec  # importlib.util.find_spec(name) keeps answering
        self.__loader__ = spec.loader
        self.__package__ = spec.parent

    def loaded(self) -> types.ModuleType:
        """The real module, imported now if it was not yet."""
        real = self.__dict__.get("_real_module")
        if real is None:
            with _LOCK:
                real = self.__dict__.get("_real_module")
                if real is None:
                    if sys.modules.get(self.__name__) is self:
                        del sys.modules[self.__name__]
                    real = importlib.import_module(self.__name__)
                    self.__dict__["_real_module"] = real
        return real

    def __getattr__(self, attribute: str) -> Any:  # only for names the stand-in lacks
        return getattr(self.loaded(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self.loaded())


def defer_onnx_ir_sympy() -> bool:
    """Put stand-ins for sympy and onnx_ir._symbolic_shapes in place before onnx_ir is imported;
    False (nothing done) when either is imported already or this onnx_ir has no such module."""
    if any(name in sys.modules for name in ("onnx_ir", "sympy", "onnx_ir._symbolic_shapes")):
        return False
    try:
        sympy_spec = importlib.util.find_spec("sympy")
        onnx_ir_spec = importlib.util.find_spec("onnx_ir")  # top level: found, not imported
    except (ImportError, ValueError):
        return False
    folders = list(onnx_ir_spec.submodule_search_locations or []) if onnx_ir_spec else []
    shapes = [os.path.join(f, "_symbolic_shapes.py") for f in folders]
    shapes = [path for path in shapes if os.path.isfile(path)]
    if sympy_spec is None or not shapes:
        return False
    shapes_spec = importlib.util.spec_from_file_location("onnx_ir._symbolic_shapes", shapes[0])
    if shapes_spec is None:
        return False
    sys.modules["sympy"] = DeferredModule("sympy", sympy_spec)
    sys.modules["onnx_ir._symbolic_shapes"] = DeferredModule(
        "onnx_ir._symbolic_shapes", shapes_spec
    )
    return True
