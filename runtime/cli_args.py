"""What the CLI commands share: argument parsing helpers and seeded random feeds.

Its own module so that `xinrt.cli` and the subcommands it dispatches to (bench, conformance,
compare ...) import it, never each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidArgumentError


def backends_arg(text: str | None) -> list[str] | None:
    """--backends a,b -> ["a", "b"]; None when not given."""
    return [b.strip() for b in text.split(",") if b.strip()] if text else None


def dims_arg(items: Sequence[str]) -> dict[str, int]:
    """--dim NAME=INT ... -> {NAME: INT}."""
    dims: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise InvalidArgumentError(f"--dim wants NAME=INT, got {item!r}")
        dims[name] = int(value)
    return dims


def random_feeds(
    session: Any, seed: int, dims: dict[str, int], skip: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Seeded random inputs of each input's dtype and shape (except those in `skip`);
    symbolic dims come from `dims`."""
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for arg in session.get_inputs():
        if arg.name in skip:
            continue
        if not arg.type.startswith("tensor("):
            raise InvalidArgumentError(
                f"input {arg.name!r} is a {arg.type}: random inputs are made for tensors only; "
                "run the model from Python (a map input takes a dict)"
            )
        shape = []
        for d in arg.shape:
            if isinstance(d, int):
                shape.append(d)
            elif d in dims:
                shape.append(dims[d])
            else:
                raise InvalidArgumentError(
                    f"input {arg.name!r} has symbolic dim {d!r}; give it with --dim {d}=<size>"
                )
        dtype = np.dtype(numpy_type(arg.type))
        if dtype.kind == "f":
            feeds[arg.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[arg.name] = rng.integers(0, 2, shape).astype(bool)
        elif dtype.kind in "iu":
            feeds[arg.name] = rng.integers(0, 10, shape).astype(dtype)
        else:
            raise InvalidArgumentError(
                f"input {arg.name!r} of type {arg.type} needs a value: --input {arg.name}=file.npy"
            )
    return feeds


def numpy_type(type_string: str) -> str:
    """The numpy dtype name of an ORT-style type string (tensor(float) -> float32)."""
    inner = type_string[len("tensor(") : -1] if type_string.startswith("tensor(") else type_string
    return {"float": "float32", "double": "float64"}.get(inner, inner)


def load_inputs(items: Sequence[str]) -> dict[str, np.ndarray]:
    """--input NAME=FILE.npy ... -> {NAME: array} (no pickles)."""
    feeds = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            raise InvalidArgumentError(f"--input wants NAME=FILE.npy, got {item!r}")
        if not Path(path).is_file():
            raise InvalidArgumentError(f"--input {name}: file not found: {path}")
        feeds[name] = np.load(path, allow_pickle=False)
    return feeds
