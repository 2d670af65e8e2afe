"""A cpu partition that holds host ops (host_ops.py): native plans and host steps in turn.

The partition's nodes (in run order) are cut into maximal runs of native nodes and of host
ops; each native run becomes its own C++ plan, each host op a Python step, and values pass
between them by name. Converters put the map ops at the ends of a model (DictVectorizer first,
ZipMap last), so a partition has at most three stages in practice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.graph_utils import name_of, node_reads

from .host_ops import host_step, is_host_op
from .string_labels import int_label_twin, is_string_label_classifier, string_label_step


@dataclass
class Stage:
    """Consecutive nodes of one kind, with the values they read from and hand to others."""

    nodes: list[ir.Node]
    host: bool
    inputs: list[ir.Value]
    outputs: list[ir.Value]


def split_stages(
    nodes: Sequence[ir.Node], outputs: Sequence[ir.Value], constants: Sequence[ir.Value]
) -> list[Stage]:
    """Cut nodes (in run order) into stages; a stage's inputs exclude constants, its outputs
    are what later stages or the partition's outputs need."""
    groups: list[list[ir.Node]] = []
    for node in nodes:
        host = runs_on_host(node)
        if not groups or host or runs_on_host(groups[-1][0]):
            groups.append([node])
        else:
            groups[-1].append(node)
    constant = set(constants)
    stages: list[Stage] = []
    for group in groups:
        produced = {v for n in group for v in n.outputs}
        reads = _unique(v for n in group for v in node_reads(n) if name_of(v))
        inputs = [v for v in reads if v not in produced and v not in constant]
        stages.append(Stage(group, runs_on_host(group[0]), inputs, []))
    needed = set(outputs)
    for stage in reversed(stages):  # a stage hands on what the partition or a later stage reads
        stage.outputs = _unique(v for n in stage.nodes for v in n.outputs if v in needed)
        needed.update(stage.inputs)
    return stages


def runs_on_host(node: ir.Node) -> bool:
    """A host op, or a classifier with string labels (its native twin, then a label lookup)."""
    return is_host_op(node) or is_string_label_classifier(node)


def _unique(values: Any) -> list[ir.Value]:
    return list(dict.fromkeys(values))


class StagedExecutable:
    """Runs the stages in order; as thread-safe as its native plans (host steps keep no state)."""

    def __init__(
        self,
        stages: Sequence[Stage],
        compile_native: Callable[[Stage], Any],
        outputs: Sequence[ir.Value],
        constants: dict[str, np.ndarray],
    ) -> None:
        def host(node: ir.Node) -> Any:
            if not is_string_label_classifier(node):
                return host_step(node)
            twin = int_label_twin(node)
            inputs = [v for v in twin.inputs if v is not None]
            native = compile_native(Stage([twin], False, inputs, list(twin.outputs)))
            return string_label_step(node, native, twin)

        self._runs: list[tuple[Stage, Any]] = [  # a HostStep, or an executable of the stage
            (s, host(s.nodes[0]) if s.host else compile_native(s)) for s in stages
        ]
        self._outputs = [name_of(v) for v in outputs]
        self._constants = constants
        self.report: dict[str, Any] = {}  # set by the backend (the precision it computes at)

    def native_executables(self) -> list[Any]:
        """The compiled native stages, in order."""
        return [runner for stage, runner in self._runs if not stage.host]

    def run(self, feeds: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {**self._constants, **feeds}
        for stage, runner in self._runs:
            if stage.host:
                node = stage.nodes[0]
                results = runner([values[name_of(v)] for v in node.inputs if v is not None])
                values.update(zip((name_of(v) for v in node.outputs), results))
            else:
                values.update(runner.run({name_of(v): values[name_of(v)] for v in stage.inputs}))
        return {name: values[name] for name in self._outputs}
