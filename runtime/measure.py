"""Timing what placement compares: seeded inputs, runs of executables, a backend's boundary cost.

Everything here reads a clock; the choice itself (runtime/cost.py) never does. Tests replace
`time_runs` to prove a warm cost cache times nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
from onnx import TensorProto, helper

from .backend import Backend, CompileOptions, Executable
from .graph_utils import name_of
from .partition import Partition, partition_graph

_BATCH_NAMES = {"n", "b", "bs", "batch", "batch_size", "batchsize", "nbatch"}
BOUNDARY_BYTES = 1 << 20  # the large tensor of the copy probe (the small one holds 1 float)


# A short run is timed more often: at least this long in all (up to MAX_TIMED_RUNS calls), so
# the minimum of a 0.2 ms model is not the luck of 3 calls on a shared machine.
MIN_TIMED_S = 0.02
MAX_TIMED_RUNS = 100


def time_runs(
    run: Callable[[], object],
    runs: int,
    max_s: float = float("inf"),
    warm_up: bool = True,
    min_s: float = MIN_TIMED_S,
) -> float:
    """Seconds of the fastest of `runs` calls (more for short ones: at least `min_s` in all)
    after one unrecorded warm-up call (the minimum: on a shared machine, noise only ever adds
    time). Fewer calls once `max_s` has passed; when the warm-up alone took longer than `max_s`,
    its time is the answer. warm_up=False: the caller ran it already (placement's later turns,
    which share MIN_TIMED_S between them)."""
    began = time.perf_counter()
    if warm_up:
        run()
        first = time.perf_counter() - began
        if first > max_s:  # one run already used the share: it is the measurement
            return first
    best = float("inf")
    timed = 0.0
    for count in range(1, MAX_TIMED_RUNS + 1):
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        best, timed = min(best, took), timed + took
        if time.perf_counter() - began > max_s:
            break
        if count >= max(1, runs) and timed >= min_s:
            break
    return best


def runner(executable: Executable, feeds: Mapping[str, Any]) -> Callable[[], object]:
    """A call that runs an executable once on (a fresh dict of) the given feeds."""

    def run() -> object:
        return executable.run(dict(feeds))

    return run


# A symbolic dim that is neither batch-like nor overridden is timed at a representative size
# (the choice is then a guess, and the placement report says so): the first dim of an input of
# rank 2 or more at 1 (exporters put the batch there, whatever they name it), an image's height
# and width (dims 2 and 3 of a rank-4 input) at ImageNet's 224, anything else (a sequence
# length, a count) at 64. Dims that share a name share the size, so inputs that must agree do.
SPATIAL_SIZE = 224
OTHER_SIZE = 64


def resolve_dim(dim: object, overrides: Mapping[str, int]) -> int | None:
    """A symbolic dim's timing value: free_dimension_overrides, else 1 for batch-like names;
    None for any other symbolic dim (see representative_size)."""
    if isinstance(dim, int):
        return dim
    name = str(getattr(dim, "value", dim) or "")
    if name in overrides:
        return overrides[name]
    lowered = name.lower()
    if lowered in _BATCH_NAMES or "batch" in lowered:
        return 1
    return None


def representative_size(position: int, rank: int) -> int:
    """The made-up timing size of a symbolic dim resolve_dim leaves open."""
    if position == 0 and rank >= 2:
        return 1
    return SPATIAL_SIZE if rank == 4 and position in (2, 3) else OTHER_SIZE


# Placement is timed on made-up inputs only up to this size: a model declaring huge inputs is
# placed by priority instead of allocating them (tests/fuzz found 58 TiB requests).
MAX_TIMING_FEED_BYTES = 256 << 20


def timing_shapes(
    inputs: Sequence[ir.Value], overrides: Mapping[str, int]
) -> tuple[dict[str, tuple[tuple[int, ...], np.dtype]], str, dict[str, int]]:
    """The shape and dtype of each timing input, the reason there are none ({}, why) when a
    shape or type cannot be made up (an unknown rank, a type numpy lacks, a size over the cap),
    and the symbolic dims that were given representative sizes (name -> size)."""
    found: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    guessed: dict[str, int] = {}
    total = 0
    for value in inputs:
        if value.shape is None or value.dtype is None:
            return {}, f"input {name_of(value)!r} has no known shape or type", {}
        dims = [resolve_dim(d, overrides) for d in value.shape]
        for position, dim in enumerate(value.shape):
            if dims[position] is None:
                label = str(getattr(dim, "value", dim) or "") or f"{name_of(value)}[{position}]"
                size = guessed.setdefault(label, representative_size(position, len(dims)))
                dims[position] = size
        shape = tuple(int(d) for d in dims if d is not None)
        try:
            dtype = np.dtype(value.dtype.numpy())
        except (TypeError, ValueError, NotImplementedError):
            return {}, f"input {name_of(value)!r} of type {value.dtype} has no numpy form", {}
        total += math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        if any(d < 0 for d in shape) or total > MAX_TIMING_FEED_BYTES:
            why = (
                f"input {name_of(value)!r} of shape {list(shape)} makes timing inputs over "
                f"{MAX_TIMING_FEED_BYTES >> 20} MiB"
            )
            return {}, why, {}
        if dtype.kind not in "fbiu":
            return {}, f"input {name_of(value)!r} of type {value.dtype} cannot be made up", {}
        found[name_of(value) or ""] = (shape, dtype)
    return found, "", guessed


def seeded_feeds(
    inputs: Sequence[ir.Value], overrides: Mapping[str, int], seed: int = 0
) -> tuple[dict[str, np.ndarray], str, dict[str, int]]:
    """Seeded random inputs of timing_shapes, with its reason and guessed dims."""
    shapes, why, guessed = timing_shapes(inputs, overrides)
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for name, (shape, dtype) in shapes.items():
        if dtype.kind == "f":
            feeds[name] = rng.standard_normal(shape).astype(dtype)
        else:  # bool, or ints 0 and 1: valid indices into any table (token type ids...)
            feeds[name] = rng.integers(0, 2, shape).astype(dtype)
    return feeds, why, guessed


def run_steps(
    steps: Sequence[tuple[Partition, Executable]], feeds: Mapping[str, Any]
) -> dict[str, Any]:
    """Run compiled partitions in order; every value they hand each other, and the feeds."""
    values: dict[str, Any] = dict(feeds)
    for partition, executable in steps:
        values.update(executable.run({name_of(v): values[name_of(v)] for v in partition.inputs}))
    return values


def _identity_partition(elements: int) -> Partition:
    node = helper.make_node("Identity", ["x"], ["y"], name="boundary_probe")
    graph = helper.make_graph(
        [node],
        "xinrt_boundary_probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [elements])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [elements])],
    )
    model = ir.serde.deserialize_model(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    )
    return partition_graph(model.graph, {"boundary_probe": "probe"}, ir_version=model.ir_version)[0]


def boundary_cost(
    backend: Backend, name: str, options: CompileOptions, runs: int
) -> tuple[float, float] | None:
    """(dispatch seconds per call, copy seconds per byte) of one backend: an Identity of one
    float and of BOUNDARY_BYTES, compiled and timed; None if the backend will not run it."""
    results = []
    for elements in (1, BOUNDARY_BYTES // 4):
        partition = _identity_partition(elements)
        partition.backend = name
        claimed = backend.capability(_probe_graph(partition))
        if not all(answer.claimed for answer in claimed.values()):
            return None
        try:
            executable = backend.compile(partition, options)
        except Exception:  # a probe only: without it boundaries cost what the units measured
            return None
        x = np.random.default_rng(1).standard_normal(elements).astype(np.float32)
        results.append(time_runs(runner(executable, {"x": x}), runs))
    dispatch = results[0]
    return dispatch, max(0.0, results[1] - dispatch) / BOUNDARY_BYTES


def _probe_graph(partition: Partition) -> ir.Graph:
    model: onnx.ModelProto = partition.to_model_proto()
    return ir.serde.deserialize_model(model).graph
