"""Cut a placed graph into maximal acyclic partitions, one backend each, in run order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import onnx
import onnx_ir as ir

from .graph_utils import name_of, node_reads
from .ml_types import serialize_value


@dataclass
class Partition:
    """Nodes one backend runs together, with the values that cross its border."""

    index: int
    backend: str
    nodes: list[ir.Node]
    inputs: list[ir.Value]  # read from outside: graph inputs or earlier partitions' outputs
    outputs: list[ir.Value]  # needed outside: graph outputs or later partitions' inputs
    initializers: list[ir.Value]  # constants it reads (shared, never copied between partitions)
    opset_imports: dict[str, int]
    ir_version: int
    whole_model: onnx.ModelProto | None = field(default=None, repr=False)  # set if it is all of it
    # With whole_model: the model file's path or bytes as the user gave them, when the session
    # has them (a backend may hand them over unread, as the user would to that runtime).
    given_model: str | bytes | None = field(default=None, repr=False)

    def to_model_proto(self) -> onnx.ModelProto:
        """A standalone ONNX model of just this partition."""
        if self.whole_model is not None:
            return self.whole_model
        graph = onnx.GraphProto(name=f"xinrt_partition_{self.index}")
        graph.input.extend(serialize_value(v) for v in self.inputs)
        graph.output.extend(serialize_value(v) for v in self.outputs)
        graph.node.extend(ir.serde.serialize_node(n) for n in self.nodes)
        for value in self.initializers:
            assert value.const_value is not None, name_of(value)
            tensor = ir.serde.serialize_tensor(value.const_value)
            tensor.name = name_of(value)
            graph.initializer.append(tensor)
        model = onnx.helper.make_model(
            graph,
            opset_imports=[onnx.helper.make_opsetid(d, v) for d, v in self.opset_imports.items()],
        )
        model.ir_version = self.ir_version
        return model


def partition_graph(
    graph: ir.Graph, assignment: Mapping[str, str], *, ir_version: int
) -> list[Partition]:
    """Group nodes (assigned backend by node name) into partitions in a topological run order.

    List scheduling: keep taking ready nodes of the current backend, in model order, until none
    is ready; then switch to the backend of the earliest ready node. Each partition is a
    contiguous stretch of one topological order, so no path leaves it and comes back (acyclic).
    """
    nodes = list(graph)
    position = {id(n): i for i, n in enumerate(nodes)}
    producer: dict[ir.Value, ir.Node] = {v: n for n in nodes for v in n.outputs}
    reads = {id(n): node_reads(n) for n in nodes}
    waiting_on = {id(n): {id(producer[v]) for v in reads[id(n)] if v in producer} for n in nodes}
    dependents: dict[int, list[ir.Node]] = {id(n): [] for n in nodes}
    for n in nodes:
        for dep in waiting_on[id(n)]:
            dependents[dep].append(n)

    ready = sorted((n for n in nodes if not waiting_on[id(n)]), key=lambda n: position[id(n)])
    groups: list[tuple[str, list[ir.Node]]] = []
    current = ""
    while ready:
        pick = next((n for n in ready if assignment[name_of(n)] == current), None)
        if pick is None:
            pick = ready[0]
            current = assignment[name_of(pick)]
            groups.append((current, []))
        ready.remove(pick)
        groups[-1][1].append(pick)
        for dependent in dependents[id(pick)]:
            waiting_on[id(dependent)].discard(id(pick))
            if not waiting_on[id(dependent)]:
                ready.append(dependent)
        ready.sort(key=lambda n: position[id(n)])
    if sum(len(g) for _, g in groups) != len(nodes):
        raise ValueError(f"graph {graph.name!r} has a cycle; it is not a valid ONNX graph")
    return _borders(graph, groups, reads, ir_version)


def _borders(
    graph: ir.Graph,
    groups: Sequence[tuple[str, list[ir.Node]]],
    reads: Mapping[int, list[ir.Value]],
    ir_version: int,
) -> list[Partition]:
    initializers = set(graph.initializers.values())
    owner: dict[ir.Value, int] = {}
    for index, (_, members) in enumerate(groups):
        for node in members:
            owner.update((v, index) for v in node.outputs)
    needed_by: dict[ir.Value, set[int]] = {}
    for index, (_, members) in enumerate(groups):
        for node in members:
            for v in reads[id(node)]:
                needed_by.setdefault(v, set()).add(index)
    graph_outputs = set(graph.outputs)
    partitions = []
    for index, (backend, members) in enumerate(groups):
        inputs: list[ir.Value] = []
        consts: list[ir.Value] = []
        for node in members:
            for v in reads[id(node)]:
                if owner.get(v) == index or v in inputs or v in consts:
                    continue
                (consts if v in initializers else inputs).append(v)
        outputs = [
            v
            for node in members
            for v in node.outputs
            if name_of(v) and (v in graph_outputs or needed_by.get(v, set()) - {index})
        ]
        partitions.append(
            Partition(
                index=index,
                backend=backend,
                nodes=list(members),
                inputs=inputs,
                outputs=outputs,
                initializers=consts,
                opset_imports=dict(graph.opset_imports),
                ir_version=ir_version,
            )
        )
    return partitions
