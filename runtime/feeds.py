"""Checking what users feed a session: names, dtypes, ranks and static dims, before any backend."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from .errors import InvalidArgumentError, InvalidInputError
from .graph_utils import name_of
from .map_feeds import check_map_feed
from .ml_types import map_type_of
from .types import type_string


def validate_output_names(
    label: str, outputs: Sequence[ir.Value], output_names: Sequence[str] | None
) -> list[str]:
    """The output names to compute: all for None or [], else the given ones, each checked."""
    known = [name_of(v) for v in outputs]
    if output_names is None or len(output_names) == 0:
        return known
    for name in output_names:
        if name not in known:
            raise InvalidArgumentError(
                f"{label} has no output {name!r}; outputs: {', '.join(known)}"
            )
    return list(output_names)


def validate_feeds(
    label: str,
    inputs: Sequence[ir.Value],
    input_feed: Mapping[str, Any],
    defaults: Mapping[str, np.ndarray] | None = None,
    constants: Collection[str] = (),
) -> dict[str, Any]:
    """Every input present, nothing unknown, each of the declared dtype, rank and static dims.

    `defaults` holds the overridable initializers (IR >= 4 initializers listed as inputs): a
    feed may replace one for a run, else its value is used. `constants` names IR < 4
    initializers listed as inputs, which cannot be fed (as in ORT).
    """
    if not isinstance(input_feed, Mapping):
        raise InvalidInputError(
            f"input feed must be a dict of name -> numpy array, got {type(input_feed).__name__}"
        )
    defaults = defaults or {}
    expected = {name_of(v): v for v in inputs}
    for name in input_feed:
        if name in constants:
            raise InvalidInputError(
                f"{label}: {name!r} is an initializer of this IR < 4 model, where listing it "
                "among the inputs does not make it feedable (ORT agrees); re-export the model "
                "(IR >= 4) to override it"
            )
        if name not in expected:
            more = _did_you_mean(str(name), list(expected))
            raise InvalidInputError(
                f"{label} has no input {name!r}; inputs: {', '.join(expected) or '(none)'}.{more}"
            )
    missing = [n for n in expected if n not in input_feed and n not in defaults]
    if missing:
        raise InvalidInputError(f"{label}: missing inputs: {', '.join(missing)}")
    return {
        name: _check_feed(name, input_feed[name], value) if name in input_feed else defaults[name]
        for name, value in expected.items()
    }


class FastFeeds:
    """validate_feeds for one session's inputs with each input's facts worked out once.

    A feed of exactly the declared plain-tensor inputs, each an ndarray of the declared dtype,
    rank and static dims, passes without touching the IR (the per-run cost at batch 1); any
    other feed, good or bad, takes validate_feeds, which also names what is wrong.
    """

    def __init__(
        self,
        label: str,
        inputs: Sequence[ir.Value],
        defaults: Mapping[str, np.ndarray] | None = None,
        constants: Collection[str] = (),
    ) -> None:
        self._args = (label, list(inputs), defaults, constants)
        # Feeds that may omit an input (defaults) or must not name one (constants), or inputs
        # that are not plain tensors of a known dtype and rank: always the full check.
        self._specs = None if defaults or constants else _tensor_specs(inputs)

    def __call__(self, input_feed: Mapping[str, Any]) -> dict[str, Any]:
        specs = self._specs
        if specs is not None and type(input_feed) is dict and len(input_feed) == len(specs):
            checked = {}
            for name, (dtype, rank, static) in specs.items():
                array = input_feed.get(name)
                if type(array) is not np.ndarray or array.dtype != dtype:
                    break
                if not _shape_fits(array.shape, rank, static):
                    break
                checked[name] = array
            else:
                return checked
        return validate_feeds(*self._args[:2], input_feed, *self._args[2:])


FeedSpec = tuple[np.dtype, int, tuple[tuple[int, int], ...]]  # dtype, rank, static dims


def _shape_fits(shape: tuple[int, ...], rank: int, static: tuple[tuple[int, int], ...]) -> bool:
    """Whether `shape` has the rank and the (axis, static dim) pairs (a plain loop: a generator
    in any() costs a microsecond per input, per run)."""
    if len(shape) != rank:
        return False
    for axis, dim in static:
        if shape[axis] != dim:
            return False
    return True


def _tensor_specs(inputs: Sequence[ir.Value]) -> dict[str, FeedSpec] | None:
    """name -> (dtype, rank, (axis, static dim) pairs), or None if an input is not a plain
    tensor of known dtype (not a string) and known rank."""
    specs = {}
    for value in inputs:
        if type(value.type) is not ir.TensorType or value.dtype is None or value.shape is None:
            return None
        want = np.dtype(value.dtype.numpy())
        if want == np.dtype(object):
            return None
        dims = list(value.shape)
        static = tuple((axis, d) for axis, d in enumerate(dims) if isinstance(d, int))
        specs[name_of(value)] = (want, len(dims), static)
    return specs


DeclaredShape = tuple[list[Any], tuple[tuple[int, int], ...]]  # dims, (axis, static dim) pairs


def declared_shapes(outputs: Sequence[ir.Value]) -> dict[str, DeclaredShape]:
    """Each shaped output's declared dims and its static ones, for warn_on_shape_mismatch."""
    found = {}
    for value in outputs:
        if value.shape is not None:
            dims = list(value.shape)
            found[name_of(value)] = (
                dims,
                tuple((a, d) for a, d in enumerate(dims) if isinstance(d, int)),
            )
    return found


def warn_on_shape_mismatch(
    declared: Mapping[str, DeclaredShape], names: Sequence[str], arrays: Sequence[np.ndarray]
) -> None:
    """As ORT does: an output whose computed shape differs from the declared one (see
    declared_shapes) is returned as computed, with a warning."""
    for name, array in zip(names, arrays):
        shape = declared.get(name)
        if shape is None or type(array) is not np.ndarray:
            continue
        dims, static = shape
        if not _shape_fits(array.shape, len(dims), static):
            shown = [d if isinstance(d, int) else str(d) for d in dims]
            warnings.warn(
                f"output {name!r} has shape {list(array.shape)}; the model declares {shown}",
                RuntimeWarning,
                stacklevel=3,
            )


def _did_you_mean(name: str, known: list[str]) -> str:
    """' Did you mean 'x'?' for the closest known name (case-insensitive), or ''."""
    lowered = {k.lower(): k for k in known}
    hint = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean {lowered[hint[0]]!r}?" if hint else ""


def _as_string_tensor(array: np.ndarray) -> np.ndarray:
    """A string tensor as an object array of str: bytes (`S`) and void (`V`) items are UTF-8
    decoded as ORT does (a void item keeps all its bytes, trailing zeros included)."""
    if array.dtype.kind == "S":
        return np.char.decode(array, "utf-8").astype(object)
    if array.dtype.kind == "V":
        items = [item.tobytes().decode("utf-8") for item in array.reshape(-1)]
        return np.array(items, dtype=object).reshape(array.shape)
    return array.astype(object)


def _check_feed(name: str, data: Any, value: ir.Value) -> Any:
    map_type = map_type_of(value)
    if map_type is not None:  # a type onnx_ir does not hold (ml_types)
        return check_map_feed(name, data, map_type)
    if isinstance(value.type, ir.OptionalType):
        if data is None:
            return None
        inner = ir.Value(name=name, type=value.type.elem_type, shape=value.shape)
        return _check_feed(name, data, inner)
    if isinstance(value.type, ir.SequenceType):
        if not isinstance(data, (list, tuple)):
            raise InvalidInputError(
                f"input {name!r}: expected a list of arrays ({type_string(value.type)}), "
                f"got {type(data).__name__}"
            )
        return [np.asarray(item) for item in data]
    array = data if isinstance(data, np.ndarray) else np.asarray(data)
    want = value.dtype.numpy() if value.dtype is not None else None
    if want is not None and np.dtype(want) == np.dtype(object) and array.dtype.kind in "USOV":
        array = _as_string_tensor(array)  # numpy str, bytes and void arrays are fine, as in ORT
    if want is not None and array.dtype != want:
        raise InvalidInputError(
            f"input {name!r}: expected dtype {type_string(value.type)} ({np.dtype(want).name}), "
            f"got {array.dtype.name}"
        )
    if value.shape is not None:
        dims = list(value.shape)
        if array.ndim != len(dims):
            raise InvalidInputError(
                f"input {name!r}: expected rank {len(dims)} (shape {_show(dims)}), "
                f"got rank {array.ndim} (shape {list(array.shape)})"
            )
        for axis, (want_dim, got_dim) in enumerate(zip(dims, array.shape)):
            if isinstance(want_dim, int) and want_dim != got_dim:
                raise InvalidInputError(
                    f"input {name!r}: dimension {axis} must be {want_dim} (shape "
                    f"{_show(dims)}), got {got_dim} (shape {list(array.shape)})"
                )
    return array


def _show(dims: Sequence[Any]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else repr(str(d)) for d in dims) + "]"
