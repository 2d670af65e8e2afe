"""The native CPU backend: capability from the C++ kernel registry, one C++ plan per partition."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.backend import SUPPORTED, Backend, CompileOptions, Device, Support, unsupported
from xinrt.errors import BackendNotFoundError, UnsupportedError
from xinrt.graph_utils import name_of, numpy_dtype_name, opset_of, static_shape, subgraphs
from xinrt.partition import Partition

try:
    from xinrt import _native
except ImportError as exc:  # a source checkout without a build
    _native = None
    _IMPORT_ERROR = str(exc)


def _attribute_value(attr: ir.Attr) -> Any:
    if attr.type == ir.AttributeType.TENSOR:
        return np.asarray(attr.value.numpy(), order="C")  # keeps 0-d tensors 0-d
    if attr.type in (ir.AttributeType.INTS, ir.AttributeType.FLOATS, ir.AttributeType.STRINGS):
        return list(attr.value)
    return attr.value


def _attributes(node: ir.Node) -> dict[str, Any]:
    return {name: _attribute_value(attr) for name, attr in node.attributes.items()}


def _domain(node: ir.Node) -> str:
    return "" if node.domain == "ai.onnx" else node.domain


class CpuExecutable:
    """A compiled C++ plan; run() releases the GIL and is safe from several threads."""

    def __init__(self, plan: Any, input_names: list[str], output_names: list[str]) -> None:
        self._plan = plan
        self._inputs = input_names
        self._outputs = output_names

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = self._plan.run([feeds[name] for name in self._inputs])
        return dict(zip(self._outputs, results))


class CpuBackend(Backend):
    """xinrt's own kernels; claims exactly what the C++ registry says it computes exactly."""

    def __init__(self, target: str | None = None) -> None:
        if target:
            raise BackendNotFoundError(f"backend 'cpu' takes no target, got {target!r}")
        self.name = "cpu"

    def devices(self) -> list[Device]:
        if _native is None:
            return []
        info = _native.build_info()
        return [
            Device(
                f"host CPU ({os.cpu_count()} threads)",
                "cpu",
                f"SIMD paths: {', '.join(info['simd'])}",
            )
        ]

    def unavailable_reason(self) -> str:
        if _native is None:
            return (
                f"the native extension xinrt._native is not built ({_IMPORT_ERROR}); pip install ."
            )
        return ""

    def capability(self, graph: ir.Graph) -> dict[str, Support]:
        return {name_of(node): self._check(node, graph) for node in graph}

    def _check(self, node: ir.Node, graph: ir.Graph) -> Support:
        if any(True for _ in subgraphs(node)):
            return unsupported(f"{node.op_type} with subgraphs is not supported natively")
        for value in [*node.inputs, *node.outputs]:
            if (
                value is not None
                and value.type is not None
                and not isinstance(value.type, ir.TensorType)
            ):
                return unsupported(f"{node.op_type} on {value.type}: only tensors run natively")
        reason = _native.check_node(
            node.op_type,
            _domain(node),
            opset_of(node, graph.opset_imports),
            [numpy_dtype_name(v) for v in node.inputs],
            [static_shape(v) for v in node.inputs],
            _attributes(node),
            len(node.outputs),
        )
        return unsupported(reason) if reason else SUPPORTED

    def compile(self, partition: Partition, options: CompileOptions) -> CpuExecutable:
        slots: dict[str, int] = {}

        def slot(value: ir.Value | None) -> int:
            if value is None or not name_of(value):
                return -1
            return slots.setdefault(name_of(value), len(slots))

        input_slots = [slot(v) for v in partition.inputs]
        constants = {
            slot(v): np.asarray(v.const_value.numpy(), order="C")
            for v in partition.initializers
            if v.const_value is not None
        }
        nodes = [
            (
                n.op_type,
                _domain(n),
                opset_of(n, partition.opset_imports),
                [slot(v) for v in n.inputs],
                [slot(v) for v in n.outputs],
                _attributes(n),
                name_of(n),
            )
            for n in partition.nodes
        ]
        output_slots = [slot(v) for v in partition.outputs]
        threads = options.intra_op_num_threads or (os.cpu_count() or 1)
        try:
            plan = _native.Plan(
                nodes,
                len(slots),
                input_slots,
                output_slots,
                constants,
                threads,
                input_dtypes=[numpy_dtype_name(v) for v in partition.inputs],
            )
        except ValueError as exc:
            raise UnsupportedError(f"cpu: {exc}") from exc
        return CpuExecutable(
            plan, [name_of(v) for v in partition.inputs], [name_of(v) for v in partition.outputs]
        )
