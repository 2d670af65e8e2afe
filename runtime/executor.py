"""Run compiled partitions in order, passing host tensors across and freeing them early."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .backend import Executable
from .errors import ExecutionError, XinrtError
from .graph_utils import name_of
from .partition import Partition
from .run_stop import current_run_stop


class BackendBusy:
    """Wall time each backend's partitions spent running, summed over every run (a session
    keeps one across re-placements); safe from many threads."""

    def __init__(self) -> None:
        self._ns: dict[str, int] = {}
        lock = threading.Lock()
        # bound methods: half the cost of `with lock` (paid once per partition run)
        self._acquire, self._release = lock.acquire, lock.release

    def add(self, backend: str, ns: int) -> None:
        self._acquire()
        try:
            self._ns[backend] = self._ns.get(backend, 0) + ns
        finally:
            self._release()

    def seconds(self) -> dict[str, float]:
        """Busy seconds per backend name, for the backends that ran at least once."""
        self._acquire()
        try:
            return {backend: ns / 1e9 for backend, ns in self._ns.items()}
        finally:
            self._release()


class Executor:
    """Runs a list of (partition, executable) in topological order; safe from many threads."""

    def __init__(
        self,
        steps: Sequence[tuple[Partition, Executable]],
        graph_outputs: Sequence[str],
        constants: Mapping[str, np.ndarray],
        busy: BackendBusy | None = None,
    ) -> None:
        self.steps = list(steps)
        self.busy = busy  # None: not counted (SessionOptions.track_backend_busy is off)
        self.constants = dict(constants)
        keep = set(graph_outputs)
        last_reader: dict[str, int] = {}
        for index, (partition, _) in enumerate(self.steps):
            for value in partition.inputs:
                last_reader[name_of(value)] = index
        # Each step's input and output names, worked out once (per run they cost as much as a
        # small model's kernels).
        self._names = [
            ([name_of(v) for v in p.inputs], [name_of(v) for v in p.outputs]) for p, _ in self.steps
        ]
        self._free_after: list[list[str]] = [[] for _ in self.steps]
        for name, index in last_reader.items():
            if name not in keep:
                self._free_after[index].append(name)

    def run(
        self,
        feeds: Mapping[str, np.ndarray],
        output_names: Sequence[str],
        profile: list[tuple[str, int, int]] | None = None,
    ) -> list[np.ndarray]:
        """Feeds must already be validated; returns the named outputs in order. With `profile`,
        appends (partition label, start ns, duration ns) per partition run."""
        stop = current_run_stop()
        if len(self.steps) == 1 and profile is None and stop is None:
            return self._run_one(feeds, output_names)
        values: dict[str, np.ndarray] = dict(feeds)
        for index, (partition, executable) in enumerate(self.steps):
            if stop is not None:
                stop.check()
            input_names, output_names_of_step = self._names[index]
            inputs = {name: values[name] for name in input_names}
            start = time.perf_counter_ns() if profile is not None else 0
            results = self._step(partition, executable, inputs)
            if profile is not None:
                label = f"partition {partition.index} on {partition.backend}"
                profile.append((label, start, time.perf_counter_ns() - start))
            for name in output_names_of_step:
                values[name] = _produced(partition, results, name)
            for name in self._free_after[index]:
                values.pop(name, None)
        if stop is not None:
            stop.check()
        return [self._output(values, feeds, name) for name in output_names]

    def _run_one(
        self, feeds: Mapping[str, np.ndarray], output_names: Sequence[str]
    ) -> list[np.ndarray]:
        """run() of a one-partition model, unprofiled and unstoppable: the same steps without
        the bookkeeping between partitions (it is most of xinrt's per-run cost on small models)."""
        partition, executable = self.steps[0]
        input_names, produced = self._names[0]
        results = self._step(partition, executable, {name: feeds[name] for name in input_names})
        for name in produced:
            _produced(partition, results, name)
        return [
            _owned(results[name]) if name in results else self._output(feeds, feeds, name)
            for name in output_names
        ]

    def _step(
        self, partition: Partition, executable: Executable, inputs: dict[str, np.ndarray]
    ) -> Mapping[str, Any]:
        """_run_step, its wall time added to the backend's busy time when that is counted."""
        if self.busy is None:
            return _run_step(partition, executable, inputs)
        start = time.perf_counter_ns()
        try:
            return _run_step(partition, executable, inputs)
        finally:  # a failed run kept its backend busy too
            self.busy.add(partition.backend, time.perf_counter_ns() - start)

    def _output(
        self, values: Mapping[str, np.ndarray], feeds: Mapping[str, np.ndarray], name: str
    ) -> np.ndarray:
        """The named output of a run, owned by the caller."""
        if name in values and name not in feeds:
            return _owned(values[name])
        # A graph input or a constant passed straight through: never hand out ours.
        source = values[name] if name in values else self.constants[name]
        if isinstance(source, (list, dict)) or source is None:
            return copy.deepcopy(source)
        return np.array(source, copy=True, order="C")


def _run_step(
    partition: Partition, executable: Executable, inputs: dict[str, np.ndarray]
) -> Mapping[str, Any]:
    """One partition's outputs by name; a backend's own exception becomes ExecutionError."""
    try:
        return executable.run(inputs)
    except XinrtError:
        raise
    except Exception as exc:
        raise ExecutionError(
            f"backend {partition.backend} failed running partition {partition.index} "
            f"({len(partition.nodes)} nodes, first {partition.nodes[0].name!r}): "
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
        ) from exc


def _produced(partition: Partition, results: Mapping[str, Any], name: str) -> Any:
    """The partition's output `name`, or ExecutionError naming the backend that left it out."""
    if name not in results:
        raise ExecutionError(
            f"backend {partition.backend} did not return {name!r} from partition {partition.index}"
        )
    return results[name]


def _owned(array: Any) -> Any:
    """Outputs are C-contiguous, writable arrays; backends return fresh ones, copy others.
    Sequences (lists), maps (dicts) and absent optionals (None) pass through as they are."""
    if array is None or isinstance(array, (list, dict)):
        return array
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    flags = array.flags
    if flags.c_contiguous and flags.writeable:
        return array
    return np.array(array, copy=True, order="C")
