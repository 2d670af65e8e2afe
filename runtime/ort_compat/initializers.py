"""SessionOptions.add_initializer, the global thread pools and the optimized model file: the
ORT options that act when a session is made (InferenceSession calls these)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import numpy as np
import onnx_ir as ir

from ..errors import InvalidArgumentError, UnsupportedError
from ..ml_types import save_model
from .api import global_thread_pool_sizes
from .errors import OrtArgumentError
from .ortvalue import OrtValue

_Options = TypeVar("_Options")  # xinrt.SessionOptions (options.py imports this file)

# ORT's session config keys for writing the optimized model's weights to a side file.
EXTERNAL_FILE_KEY = "session.optimized_model_external_initializers_file_name"
EXTERNAL_MIN_SIZE_KEY = "session.optimized_model_external_initializers_min_size_in_bytes"


def check_added_initializer(name: object, value: Any) -> OrtValue:
    """add_initializer takes an OrtValue (ORT raises RuntimeError for anything else)."""
    if not isinstance(value, OrtValue):
        raise OrtArgumentError(
            f"add_initializer({name!r}): expected an OrtValue (OrtValue.ortvalue_from_numpy), "
            f"got {type(value).__name__}"
        )
    return value


def refuse_external_initializers(names: Any, values: Any) -> NoReturn:
    """add_external_initializers: xinrt loads a model's external data itself, so the in-memory
    replacement of external tensors is refused (NotImplemented) with what to use instead."""
    raise UnsupportedError(
        "SessionOptions.add_external_initializers is not implemented by xinrt; give the model "
        "with its external data files, or replace weights with add_initializer(name, OrtValue)"
    )


def with_global_threads(options: _Options) -> _Options:
    """Options as the session uses them: with use_per_session_threads=False, the thread counts
    it leaves at 0 come from set_global_thread_pool_sizes (as ORT's global pools serve it)."""
    if getattr(options, "use_per_session_threads", True):
        return options
    pools = global_thread_pool_sizes()
    changes = {knob: pools[knob] for knob in pools if not getattr(options, knob) and pools[knob]}
    return dataclasses.replace(options, **changes) if changes else options  # type: ignore[type-var]


def apply_added_initializers(model: ir.Model, added: Mapping[str, OrtValue], label: str) -> None:
    """Replace the model's initializers named by add_initializer (same dtype and shape)."""
    initializers = model.graph.initializers
    for name, value in added.items():
        current = initializers.get(name)
        if current is None:
            continue  # ORT ignores a name the model does not have
        array = value.typed_array()
        if current.dtype is not None and current.dtype.numpy() != array.dtype:
            raise InvalidArgumentError(
                f"{label}: add_initializer({name!r}) gives {array.dtype}, the model's "
                f"initializer is {current.dtype.numpy()}"
            )
        if current.shape is not None and list(current.shape) != list(array.shape):
            raise InvalidArgumentError(
                f"{label}: add_initializer({name!r}) gives shape {list(array.shape)}, the "
                f"model's initializer has {list(current.shape)}"
            )
        current.const_value = ir.Tensor(np.array(array), name=name)


def save_optimized_model(model: ir.Model, path: str, session_config: Mapping[str, str]) -> None:
    """optimized_model_filepath: the model as placed, its large weights in the side file named
    by ORT's session config entry (relative to the model file), else all in one file."""
    side_file = session_config.get(EXTERNAL_FILE_KEY, "")
    if not side_file:
        save_model(model, path)  # keeps map-typed inputs and outputs (ZipMap ...)
        return
    if Path(side_file).is_absolute() or ".." in Path(side_file).parts:
        raise InvalidArgumentError(
            f"{EXTERNAL_FILE_KEY}={side_file!r}: give a file name relative to the model's folder"
        )
    min_size = int(session_config.get(EXTERNAL_MIN_SIZE_KEY, "1024"))
    ir.save(model, path, external_data=side_file, size_threshold_bytes=min_size)
