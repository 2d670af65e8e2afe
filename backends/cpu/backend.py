"""The native CPU backend: capability from the C++ kernel registry, one C++ plan per partition."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from xinrt.backend import SUPPORTED, Backend, CompileOptions, Device, Support, unsupported
from xinrt.errors import BackendNotFoundError, ExecutionError, InvalidModelError, UnsupportedError
from xinrt.graph_utils import (
    name_of,
    numpy_dtype_name,
    opset_of,
    outer_references,
    static_shape,
    subgraphs,
)
from xinrt.ml_types import map_type_of, proto_type_string
from xinrt.partition import Partition
from xinrt.run_stop import RunStop, current_run_stop

from .host_ops import host_op_support, is_host_op
from .staged import Stage, StagedExecutable, runs_on_host, split_stages
from .string_labels import int_label_twin, is_string_label_classifier

try:
    from xinrt import _native
except ImportError as exc:  # a source checkout without a build
    _native = None
    _IMPORT_ERROR = str(exc)


_LOG = logging.getLogger(__name__)
_WARNED: set[str] = set()
_CONTROL_FLOW = ("If", "Loop", "Scan")
_OUTER_INPUTS_ATTR = "__xinrt_outer_inputs"  # registry.h kOuterInputsAttr
_SCAN_SHAPES_ATTR = "__xinrt_scan_output_shapes"  # control_flow.cc: Loop's empty scan outputs


def _attribute_value(attr: ir.Attr) -> Any:
    if attr.type == ir.AttributeType.TENSOR:
        return np.asarray(attr.value.numpy(), order="C")  # keeps 0-d tensors 0-d
    if attr.type in (ir.AttributeType.INTS, ir.AttributeType.FLOATS, ir.AttributeType.STRINGS):
        return list(attr.value)
    return attr.value


def _attributes(node: ir.Node) -> dict[str, Any]:
    return {
        name: _attribute_value(attr)
        for name, attr in node.attributes.items()
        if attr.type not in (ir.AttributeType.GRAPH, ir.AttributeType.GRAPHS)
    }


def _is_constant(value: ir.Value) -> bool:
    return value.is_initializer() and value.const_value is not None


def _outer_inputs(node: ir.Node) -> list[ir.Value]:
    """Non-constant outer-scope values a node's subgraphs read (constants go into the plans)."""
    values: list[ir.Value] = []
    for graph in subgraphs(node):
        values.extend(v for v in outer_references(graph) if not _is_constant(v) and v not in values)
    return values


def _scan_output_shapes(body: ir.Graph, first: int) -> list[int]:
    """Static shapes of body outputs from `first` on, as [rank, dims...] each (-1: unknown)."""
    flat: list[int] = []
    for value in list(body.outputs)[first:]:
        shape = static_shape(value)
        flat.extend([-1] if shape is None or -1 in shape else [len(shape), *shape])
    return flat


_NATIVE_DTYPES = ("float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool")


def _constant_value(node: ir.Node) -> np.ndarray | None:
    """The array a Constant node holds (a plan constant), or None where it is not a native one.

    Subgraphs keep their Constant nodes (placement lifts only the main graph's).
    """
    if len(node.attributes) != 1:
        return None
    ((name, attr),) = node.attributes.items()
    value: np.ndarray | None = None
    if name == "value":
        value = np.asarray(attr.value.numpy(), order="C")
    elif name in ("value_float", "value_floats"):
        value = np.asarray(attr.value, np.float32)
    elif name in ("value_int", "value_ints"):
        value = np.asarray(attr.value, np.int64)
    return value if value is not None and value.dtype.name in _NATIVE_DTYPES else None


def _non_tensor(values: list[ir.Value | None]) -> ir.Value | None:
    return next(
        (
            v
            for v in values
            if v is not None
            and (
                (v.type is not None and not isinstance(v.type, ir.TensorType))
                or map_type_of(v) is not None
            )
        ),
        None,
    )


def _type_shown(value: ir.Value) -> str:
    map_type = map_type_of(value)
    return str(value.type) if map_type is None else proto_type_string(map_type)


def _input_dtype_name(value: ir.Value | None) -> str:
    """ "" for an absent input, "unknown" for a present one of unknown type (shape inference
    gave up), else the numpy dtype name: an untyped input is checked again at run time."""
    if value is not None and value.dtype is None:
        return "unknown"
    return numpy_dtype_name(value)


def _domain(node: ir.Node) -> str:
    return "" if node.domain == "ai.onnx" else node.domain


class CpuExecutable:
    """A compiled C++ plan; run() releases the GIL and is safe from several threads."""

    def __init__(self, plan: Any, input_names: list[str], output_names: list[str]) -> None:
        self._plan = plan
        self._inputs = input_names
        self._outputs = output_names
        self.report: dict[str, Any] = {}  # the precision it computes at, when one was asked

    @property
    def bf16_steps(self) -> int:
        """How many of its steps compute in bf16 (Conv with constant weights at bf16)."""
        return int(self._plan.bf16_steps)

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = [feeds[name] for name in self._inputs]
        stop = current_run_stop()
        try:
            if stop is None:  # no RunOptions: only Ctrl-C can stop it (the binding polls for it)
                results = self._plan.run(arrays)
            else:
                results = self._run_stoppable(arrays, stop)
        except _native.ModelError as exc:
            raise InvalidModelError(
                f"cpu: {exc} (the model, or a shape it reads from its inputs, is invalid here: "
                "check the node's attributes and the shapes the model computes)"
            ) from exc
        return dict(zip(self._outputs, results))

    def _run_stoppable(self, arrays: list[np.ndarray], stop: RunStop) -> list[np.ndarray]:
        """Runs the plan with a RunControl that `stop` terminates (and its deadline)."""
        control = _native.RunControl(stop.remaining_s())  # polled between kernels
        hook = control.terminate
        stop.add_hook(hook)
        try:
            return list(self._plan.run(arrays, control))
        except _native.RunCancelled as exc:
            stop.check()  # names the model and the reason
            raise ExecutionError(f"cpu: run {exc}") from exc
        finally:
            stop.remove_hook(hook)


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
        return {name_of(node): self._check(node, graph.opset_imports) for node in graph}

    def _check(self, node: ir.Node, opset_imports: Mapping[str, int]) -> Support:
        if node.op_type == "Constant" and not _domain(node):
            if _constant_value(node) is None:
                return unsupported(
                    "Constant: only value (of a native dtype), value_float(s) and value_int(s) "
                    "run natively"
                )
            return SUPPORTED
        if any(True for _ in subgraphs(node)):
            reason = self._check_subgraphs(node, opset_imports)
            if reason:
                return unsupported(reason)
        if is_host_op(node):  # the map ops, run in numpy between native plans
            return host_op_support(node)
        if is_string_label_classifier(node):  # its int-label twin, then a label lookup
            return self._check(int_label_twin(node), opset_imports)
        value = _non_tensor([*node.inputs, *node.outputs])
        if value is not None:
            return unsupported(f"{node.op_type} on {_type_shown(value)}: only tensors run natively")
        reason = _native.check_node(
            node.op_type,
            _domain(node),
            opset_of(node, opset_imports),
            [_input_dtype_name(v) for v in node.inputs],
            [static_shape(v) for v in node.inputs],
            _attributes(node),
            len(node.outputs),
        )
        return unsupported(reason) if reason else SUPPORTED

    def _check_subgraphs(self, node: ir.Node, opset_imports: Mapping[str, int]) -> str:
        """'' when every node of every subgraph (recursively) runs natively, else why not."""
        if node.op_type not in _CONTROL_FLOW or _domain(node):
            return f"{node.op_type} with subgraphs is not supported natively"
        for name, attr in node.attributes.items():
            if attr.type == ir.AttributeType.GRAPHS:
                return f"{node.op_type}: graph-list attribute {name!r} is not supported natively"
            if attr.type != ir.AttributeType.GRAPH:
                continue
            graph: ir.Graph = attr.value
            value = _non_tensor([*graph.inputs, *graph.outputs])
            if value is not None:
                return (
                    f"{node.op_type}: {name} value '{name_of(value)}' is {_type_shown(value)}: "
                    "only tensors run natively"
                )
            for inner in graph:
                if runs_on_host(inner):  # host steps run between plans, never inside one
                    return f"{node.op_type}: {name} holds {inner.op_type}, which runs on the host"
                support = self._check(inner, opset_imports)
                if not support.claimed:
                    return (
                        f"{node.op_type}: {name} node '{name_of(inner)}' ({inner.op_type}): "
                        f"{support.reason}"
                    )
        return ""

    def compile(
        self, partition: Partition, options: CompileOptions
    ) -> CpuExecutable | StagedExecutable:
        threads = options.intra_op_num_threads or (os.cpu_count() or 1)
        precision, report = native_precision(options.precision)
        executable: CpuExecutable | StagedExecutable
        if any(runs_on_host(n) for n in partition.nodes):
            executable = _compile_staged(partition, threads, precision)
            plans = executable.native_executables()
        else:
            executable = _compile_native(
                partition.nodes, partition.inputs, partition.outputs, partition, threads, precision
            )
            plans = [executable]
        if precision == "bf16":
            report["bf16_steps"] = sum(p.bf16_steps for p in plans)
        executable.report = report
        return executable


def native_precision(asked: str) -> tuple[str, dict[str, Any]]:
    """The precision the native plans compute at for SessionOptions.precision `asked`, and what
    the placement report says about it. bf16 needs AVX512_BF16; without it the plans compute in
    fp32 (correct, at fp32 speed) and the report and a warning say so. Other precisions (fp16,
    int8) are the model's own: the native kernels compute each node in its dtypes."""
    if asked != "bf16":
        return "fp32", {}
    info = _native.build_info()
    if info["bf16"]:
        return "bf16", {"precision": "bf16"}
    path = info["simd_selected"]
    why = f"cpu: precision bf16 asked, computing in fp32: SIMD path {path} lacks AVX512_BF16"
    if "avx512_bf16" in info["simd"]:  # the CPU has it: an environment variable capped the path
        why += " (capped by XINRT_CPU_SIMD / XINRT_CPU_BASELINE)"
    if why not in _WARNED:  # once per process: "fastest" placement compiles many partitions
        _WARNED.add(why)
        _LOG.warning(why)
    return "fp32", {"precision": "fp32", "precision_note": why}


def _compile_native(
    nodes: Sequence[ir.Node],
    inputs: Sequence[ir.Value],
    outputs: Sequence[ir.Value],
    partition: Partition,
    threads: int,
    precision: str = "fp32",
) -> CpuExecutable:
    try:
        plan = _build_plan(
            nodes,
            inputs,
            outputs,
            partition.initializers,
            partition.opset_imports,
            threads,
            precision,
        )
    except ValueError as exc:
        raise UnsupportedError(f"cpu: {exc}") from exc
    return CpuExecutable(plan, [name_of(v) for v in inputs], [name_of(v) for v in outputs])


def _compile_staged(partition: Partition, threads: int, precision: str) -> StagedExecutable:
    """Native plans between the host ops (staged.py)."""
    stages = split_stages(partition.nodes, partition.outputs, partition.initializers)
    host_reads = {v for s in stages if s.host for n in s.nodes for v in n.inputs}
    constants = {
        name_of(v): np.asarray(v.const_value.numpy())
        for v in partition.initializers
        if v in host_reads and v.const_value is not None
    }

    def compile_native(stage: Stage) -> CpuExecutable:
        return _compile_native(
            stage.nodes, stage.inputs, stage.outputs, partition, threads, precision
        )

    return StagedExecutable(stages, compile_native, partition.outputs, constants)


def _build_plan(
    nodes: Sequence[ir.Node],
    inputs: Sequence[ir.Value],
    outputs: Sequence[ir.Value],
    constants: Sequence[ir.Value],
    opset_imports: Mapping[str, int],
    threads: int,
    precision: str = "fp32",
) -> Any:
    """One C++ plan; each subgraph of a node becomes its own plan, passed as the attribute.

    A subgraph plan takes the subgraph's formal inputs, then the node's outer-scope inputs
    (`_outer_inputs`, appended to the node's inputs so the parent keeps them alive until the
    node runs); outer-scope constants become the subgraph plan's own constants.
    """
    slots: dict[ir.Value, int] = {}

    def slot(value: ir.Value | None) -> int:
        if value is None or not name_of(value):
            return -1
        return slots.setdefault(value, len(slots))

    input_slots = [slot(v) for v in inputs]
    read = {v for n in nodes for v in n.inputs} | set(outputs)  # constants only subgraphs read
    constant_arrays = {  # stay out of this plan: the subgraph plans hold them
        slot(v): np.asarray(v.const_value.numpy(), order="C")
        for v in constants
        if v.const_value is not None and v in read
    }
    specs = []
    for n in nodes:
        if n.op_type == "Constant" and not _domain(n):
            value = _constant_value(n)
            if value is None:
                raise ValueError(f"node '{name_of(n)}' (Constant): not a native constant")
            constant_arrays[slot(n.outputs[0])] = value
            continue
        attrs = _attributes(n)
        extra: list[ir.Value] = []
        if any(True for _ in subgraphs(n)):
            extra = _outer_inputs(n)
            attrs[_OUTER_INPUTS_ATTR] = len(extra)
            for name, attr in n.attributes.items():
                if attr.type != ir.AttributeType.GRAPH:
                    continue
                graph: ir.Graph = attr.value
                inner_constants = [
                    *graph.initializers.values(),
                    *(v for v in outer_references(graph) if _is_constant(v)),
                ]
                attrs[name] = _build_plan(
                    list(graph),
                    [*graph.inputs, *extra],
                    list(graph.outputs),
                    inner_constants,
                    opset_imports,
                    threads,
                    precision,
                )
            if n.op_type == "Loop" and "body" in n.attributes:
                carried = len(n.inputs) - 2
                attrs[_SCAN_SHAPES_ATTR] = _scan_output_shapes(
                    n.attributes["body"].value, 1 + carried
                )
        specs.append(
            (
                n.op_type,
                _domain(n),
                opset_of(n, opset_imports),
                [slot(v) for v in [*n.inputs, *extra]],
                [slot(v) for v in n.outputs],
                attrs,
                name_of(n),
            )
        )
    output_slots = [slot(v) for v in outputs]
    return _native.Plan(
        specs,
        len(slots),
        input_slots,
        output_slots,
        constant_arrays,
        threads,
        input_dtypes=[numpy_dtype_name(v) for v in inputs],
        precision=precision,
    )
