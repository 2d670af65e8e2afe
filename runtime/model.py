"""Load and validate a model given as a path, bytes or ModelProto, then lift it into onnx_ir."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import onnx
import onnx_ir as ir
from google.protobuf.message import DecodeError
from onnx import external_data_helper
from typing_extensions import TypeIs

from .errors import ExternalDataError, InvalidModelError, ModelNotFoundError
from .lenient_load import accept_as_ort_does, checkable_copy
from .ml_types import hide_map_types, record_map_types, restore_map_types
from .skim import LARGE_TENSOR_BYTES, SkimmedModel, lazy_weights, materialize, skim_model_file
from .sparse import densify_sparse_initializers
from .type_check import check_type_bindings

ModelSource = Union[str, "os.PathLike[str]", bytes, onnx.ModelProto]


@dataclass
class LoadedModel:
    """The validated model: the proto as given (external data loaded) and its onnx_ir graph."""

    proto: onnx.ModelProto
    ir_model: ir.Model
    label: str  # how error messages name the model: its path, or "<bytes>" / "<ModelProto>"
    # The graph outputs as the model declares them (the IR holds what inference adds), which
    # get_outputs shows, as ORT does.
    declared_outputs: list[onnx.ValueInfoProto] = dataclasses.field(default_factory=list)


def load_model(
    source: ModelSource, *, base_dir: str | os.PathLike[str] | None = None
) -> LoadedModel:
    """Read, check and lift a model; every failure is an InvalidModelError naming the model.

    From a path, the large weights of the main graph stay in the file (skim.py) until something
    reads them; `detach_from_proto` reads what is left."""
    skimmed: SkimmedModel | None = None
    if isinstance(source, onnx.ModelProto):
        proto, label = _copy(source), "<ModelProto>"
    elif isinstance(source, (bytes, bytearray, memoryview)):
        proto, label = _parse(bytes(source), "<bytes>"), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = str(path)
        if path.is_dir():
            raise InvalidModelError(
                f"{label} is a folder, not a model file; give the path of the .onnx file in it"
            )
        if not path.is_file():
            raise ModelNotFoundError(f"model file not found: {label}")
        skimmed = _skim(path)
        proto = skimmed.proto if skimmed else _parse(path.read_bytes(), label)
        base_dir = base_dir if base_dir is not None else path.parent
    else:
        raise InvalidModelError(
            f"model must be a path, bytes or onnx.ModelProto, got {type(source).__name__}"
        )
    try:  # protobuf decodes string fields on first use: a name may not be UTF-8 (tests/fuzz)
        _check_utf8(proto)
        left_in_file = skimmed.weights if skimmed else {}
        _load_external_data(proto, label, base_dir, left_in_file)
        densify_sparse_initializers(proto, label)
        _check_initializer_sizes(proto, label, left_in_file)
        accept_as_ort_does(proto, label)
        weightless = _without_large_initializers(proto)
        _check(checkable_copy(weightless), label)
        name_unnamed_nodes(proto.graph)
        name_unnamed_nodes(weightless.graph)
        declared = [_copy_value_info(v) for v in proto.graph.output]
        inferred = _infer_shapes(weightless)
        check_type_bindings(inferred, label)
        _take_inferred_types(proto, inferred)
        del inferred
    except UnicodeDecodeError as exc:
        raise InvalidModelError(
            f"{label}: a name or string in the model is not UTF-8: {exc}"
        ) from None
    hidden = hide_map_types(proto)  # onnx_ir has no map type: ml_types keeps them beside it
    try:
        ir_model = ir.from_proto(proto)
    except Exception as exc:  # onnx_ir's own errors for what the checker let through
        raise InvalidModelError(
            f"{label} cannot be read into the graph IR: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())}"
        ) from None
    finally:
        restore_map_types(hidden)
    record_map_types(ir_model, hidden)
    if skimmed:
        lazy_weights(ir_model, skimmed, label)
    return LoadedModel(proto=proto, ir_model=ir_model, label=label, declared_outputs=declared)


def _skim(path: Path) -> SkimmedModel | None:
    try:
        return skim_model_file(path)
    except (OSError, ValueError):  # unreadable, or not mappable (a pipe): read it whole
        return None


def _copy_value_info(info: onnx.ValueInfoProto) -> onnx.ValueInfoProto:
    copy = onnx.ValueInfoProto()
    copy.CopyFrom(info)
    return copy


def _copy(proto: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    return copy


def _parse(data: bytes, label: str) -> onnx.ModelProto:
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, ValueError) as exc:
        raise InvalidModelError(f"{label} is not a valid ONNX model (protobuf: {exc})") from None
    if proto.ir_version <= 0 or not proto.HasField("graph"):
        raise InvalidModelError(
            f"{label} is not an ONNX model: it parsed as protobuf but has no ir_version or graph"
        )
    return proto


def _external_tensors(
    proto: onnx.ModelProto, left_in_file: Mapping[str, tuple[int, int]]
) -> list[onnx.TensorProto]:
    return [
        t
        for t in external_data_helper._get_all_tensors(proto)
        if external_data_helper.uses_external_data(t) and not _left_in_file(t, left_in_file)
    ]


def _left_in_file(tensor: onnx.TensorProto, left_in_file: Mapping[str, tuple[int, int]]) -> bool:
    """A weight the skim left in the model file (its reference names no location)."""
    return tensor.name in left_in_file and all(e.key != "location" for e in tensor.external_data)


def _load_external_data(
    proto: onnx.ModelProto,
    label: str,
    base_dir: str | os.PathLike[str] | None,
    left_in_file: Mapping[str, tuple[int, int]],
) -> None:
    tensors = _external_tensors(proto, left_in_file)
    if not tensors:
        return
    if base_dir is None:
        raise ExternalDataError(
            f"{label} references external data (tensor {tensors[0].name!r}) but was not given "
            "as a path; load it from its file or pass base_dir="
        )
    root = Path(base_dir).resolve()
    for tensor in tensors:
        try:
            info = external_data_helper.ExternalDataInfo(tensor)
        except ValueError as exc:
            raise ExternalDataError(
                f"{label}: tensor {tensor.name!r} has invalid external data fields: {exc}"
            ) from None
        for field_name in ("offset", "length"):
            if (getattr(info, field_name) or 0) < 0:
                raise ExternalDataError(
                    f"{label}: tensor {tensor.name!r} has a negative external data "
                    f"{field_name} ({getattr(info, field_name)}); offsets and lengths are byte "
                    "counts >= 0"
                )
        location = info.location
        target = (root / location).resolve()
        if os.path.isabs(location) or not target.is_relative_to(root):
            raise ExternalDataError(
                f"{label}: external data location {location!r} of tensor {tensor.name!r} "
                "escapes the model's directory; only relative paths inside it are allowed"
            )
        if not target.is_file():
            raise ExternalDataError(
                f"{label}: external data file {location!r} of tensor {tensor.name!r} not found "
                f"next to the model"
            )
        if target != root / location:  # a symlink that stays inside the folder, as ORT allows:
            _set_location(tensor, target.relative_to(root).as_posix())  # onnx refuses links
        size = target.stat().st_size
        end = (info.offset or 0) + (info.length or 0)
        if end > size:
            raise ExternalDataError(
                f"{label}: tensor {tensor.name!r} wants bytes up to {end} of {location!r}, "
                f"which has {size}"
            )
    try:
        for tensor in tensors:  # not load_external_data_for_model: it would load skimmed ones
            external_data_helper.load_external_data_for_tensor(tensor, str(root))
            # older onnx releases clear these in load_external_data_for_model only
            tensor.data_location = onnx.TensorProto.DEFAULT
            del tensor.external_data[:]
    except (OSError, ValueError) as exc:
        raise ExternalDataError(f"{label}: cannot load external data: {exc}") from None


def _set_location(tensor: onnx.TensorProto, location: str) -> None:
    for entry in tensor.external_data:
        if entry.key == "location":
            entry.value = location


def _check(proto: onnx.ModelProto, label: str) -> None:
    newest = onnx.defs.onnx_opset_version()
    for opset in proto.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version > newest:
            raise InvalidModelError(
                f"{label} imports ONNX opset {opset.version}, newer than the {newest} this "
                f"onnx {onnx.__version__} knows; upgrade onnx or export with opset <= {newest}"
            )
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        raise InvalidModelError(f"{label} fails the ONNX checker: {checker_message(exc)}") from None
    except UnicodeDecodeError:  # the checker's message quotes a name that is not UTF-8
        raise InvalidModelError(
            f"{label} fails the ONNX checker on a name or string that is not valid UTF-8 "
            "(a corrupt or truncated model)"
        ) from None


def checker_message(exc: Exception) -> str:
    """The checker's whole message on one line (it breaks lines mid-sentence around the node
    it prints), then its context ("Bad node spec for node. Name: ...")."""
    message, _, context = str(exc).partition("==> Context:")
    text = " ".join(message.split()) or type(exc).__name__
    context = " ".join(context.split())
    return f"{text} (context: {context})" if context else text


def name_unnamed_nodes(graph: onnx.GraphProto) -> None:
    """Give every node a unique name (placement reports and overrides refer to nodes by name)."""
    seen: set[str] = set()
    for index, node in enumerate(graph.node):
        name = node.name or f"{node.op_type}_{index}"
        while name in seen:
            name = f"{name}_{index}"
        node.name = name
        seen.add(name)


# Initializers above this size reach the checker and shape inference as typed graph inputs:
# both serialize the whole model (twice for inference), which for a 100 MB model costs more
# time and peak memory than everything else a session does. Smaller ones (shape constants that
# data propagation reads) stay.
_LARGE_INITIALIZER_BYTES = LARGE_TENSOR_BYTES


def _is_large(tensor: onnx.TensorProto) -> bool:
    # From the dims, not ByteSize(), which walks the data (tens of ms on a big model).
    count = 1
    for dim in tensor.dims:
        count *= dim
    return count * _ITEMSIZE.get(tensor.data_type, 1) > _LARGE_INITIALIZER_BYTES


def _without_large_initializers(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The model with its large initializers replaced by graph inputs of the same type."""
    graph = proto.graph
    if not any(_is_large(t) for t in graph.initializer):
        return proto
    light = onnx.ModelProto()
    for field, value in proto.ListFields():
        if field.name != "graph":
            light.MergeFrom(onnx.ModelProto(**{field.name: value}))
    lgraph = light.graph
    for field, value in graph.ListFields():
        if field.name != "initializer":
            lgraph.MergeFrom(onnx.GraphProto(**{field.name: value}))
    inputs = {i.name for i in graph.input}
    for tensor in graph.initializer:
        if not _is_large(tensor):
            lgraph.initializer.append(tensor)
        elif tensor.name not in inputs:
            lgraph.input.append(
                onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims)
            )
    return light


def _check_utf8(proto: onnx.ModelProto) -> None:
    """Every name and string decodes as UTF-8, as the spec requires: protobuf hands an
    undecodable string field over as bytes, which later code (onnx_ir, the backends) cannot
    handle. Raises UnicodeDecodeError otherwise (found by tests/fuzz)."""
    strings: list[object] = [proto.producer_name, proto.producer_version, proto.domain]
    strings += [proto.doc_string, *(f for p in proto.metadata_props for f in (p.key, p.value))]
    strings += [i.domain for i in proto.opset_import]
    graphs = [proto.graph]
    while graphs:
        graph = graphs.pop()
        strings += [graph.name, graph.doc_string]
        for info in (*graph.input, *graph.output, *graph.value_info, *graph.initializer):
            strings.append(info.name)
        for node in graph.node:
            strings += [node.name, node.op_type, node.domain, *node.input, *node.output]
            standard = node.domain in ("", "ai.onnx")  # custom ops may keep blobs in strings
            for attr in node.attribute:
                strings += [attr.name, *((attr.s, *attr.strings) if standard else ())]
                strings += [
                    t.name for t in (*([attr.t] if attr.HasField("t") else []), *attr.tensors)
                ]
                graphs.extend([attr.g] if attr.HasField("g") else list(attr.graphs))
    for value in strings:
        if isinstance(value, bytes):
            value.decode("utf-8")


def _all_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Initializers and tensor attributes (Constant values...) of a graph and its subgraphs."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                yield from _all_tensors(sub)


def _check_initializer_sizes(
    proto: onnx.ModelProto, label: str, left_in_file: Mapping[str, tuple[int, int]]
) -> None:
    """Data matching the dims, for every tensor (the checker misses some: subgraphs, large ones
    it no longer sees, dims that lie about raw data; found by tests/fuzz)."""
    for tensor in _all_tensors(proto.graph):
        if any(dim < 0 for dim in tensor.dims):
            raise InvalidModelError(
                f"{label}: tensor {tensor.name!r} has a negative dim in {list(tensor.dims)}"
            )
        count = 1
        for dim in tensor.dims:
            count *= dim
        itemsize = _ITEMSIZE.get(tensor.data_type)
        found: int | None
        unit = "bytes"
        if _left_in_file(tensor, left_in_file) and itemsize is not None:
            found, want = left_in_file[tensor.name][1], count * itemsize
        elif tensor.HasField("raw_data") and itemsize is not None:
            found, want = len(tensor.raw_data), count * itemsize
        else:
            found, want, unit = _typed_length(tensor), count, "values"
        if found is not None and found != want:
            raise InvalidModelError(
                f"{label}: initializer {tensor.name!r} of shape {list(tensor.dims)} holds "
                f"{found} {unit}, expected {want}"
            )


# Bytes per element of the fixed-size types; sub-byte and string tensors are left alone.
_ITEMSIZE: dict[int, int] = {
    onnx.TensorProto.FLOAT: 4, onnx.TensorProto.DOUBLE: 8, onnx.TensorProto.FLOAT16: 2,
    onnx.TensorProto.BFLOAT16: 2, onnx.TensorProto.INT8: 1, onnx.TensorProto.UINT8: 1,
    onnx.TensorProto.INT16: 2, onnx.TensorProto.UINT16: 2, onnx.TensorProto.INT32: 4,
    onnx.TensorProto.UINT32: 4, onnx.TensorProto.INT64: 8, onnx.TensorProto.UINT64: 8,
    onnx.TensorProto.BOOL: 1, onnx.TensorProto.COMPLEX64: 8, onnx.TensorProto.COMPLEX128: 16,
}  # fmt: skip
# The 1-byte float8 types this onnx knows (a lying data_type among them once reached onnx_ir).
_ITEMSIZE.update({
    getattr(onnx.TensorProto, name): 1
    for name in ("FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "FLOAT8E8M0")
    if hasattr(onnx.TensorProto, name)
})  # fmt: skip

_TYPED_FIELD: dict[int, str] = {
    onnx.TensorProto.FLOAT: "float_data", onnx.TensorProto.DOUBLE: "double_data",
    onnx.TensorProto.INT64: "int64_data", onnx.TensorProto.UINT64: "uint64_data",
    onnx.TensorProto.INT32: "int32_data", onnx.TensorProto.INT8: "int32_data",
    onnx.TensorProto.UINT8: "int32_data", onnx.TensorProto.INT16: "int32_data",
    onnx.TensorProto.UINT16: "int32_data", onnx.TensorProto.BOOL: "int32_data",
    onnx.TensorProto.FLOAT16: "int32_data", onnx.TensorProto.BFLOAT16: "int32_data",
    onnx.TensorProto.UINT32: "uint64_data",
}  # fmt: skip


def _typed_length(tensor: onnx.TensorProto) -> int | None:
    field = _TYPED_FIELD.get(tensor.data_type)
    return len(getattr(tensor, field)) if field else None


def _take_inferred_types(proto: onnx.ModelProto, inferred: onnx.ModelProto) -> None:
    """Copies what shape inference learned (value_info, output and subgraph types) into proto."""
    if inferred is proto:
        return
    graph, igraph = proto.graph, inferred.graph
    del graph.value_info[:]
    graph.value_info.extend(igraph.value_info)
    for output, ioutput in zip(graph.output, igraph.output):
        declared = onnx.TypeProto()
        declared.CopyFrom(output.type)
        output.type.CopyFrom(ioutput.type)
        _keep_unnamed_dims(output.type, declared)
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for n in graph.node for a in n.attribute):  # fmt: skip
        del graph.node[:]
        graph.node.extend(igraph.node)


def _keep_unnamed_dims(inferred: onnx.TypeProto, declared: onnx.TypeProto) -> None:
    """A dim the model declares without value or name stays so (get_outputs shows None, as in
    ORT) rather than taking the `unk__N` name shape inference makes up for it."""
    if {inferred.WhichOneof("value"), declared.WhichOneof("value")} != {"tensor_type"}:
        return
    dims, given = inferred.tensor_type.shape.dim, declared.tensor_type.shape.dim
    if not declared.tensor_type.HasField("shape") or len(dims) != len(given):
        return
    for dim, want in zip(dims, given):
        unnamed = not want.HasField("dim_value") and not want.HasField("dim_param")
        if unnamed and dim.HasField("dim_param") and dim.dim_param.startswith("unk__"):
            dim.ClearField("dim_param")


def _infer_shapes(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Types and shapes for every value where onnx can infer them; the model as-is otherwise."""
    try:
        return onnx.shape_inference.infer_shapes(proto, data_prop=_data_propagation_safe(proto))
    except Exception:  # inference is a best effort; backends see unknown types as such
        return proto


# onnx's data propagation (C++, in this process) crashes the interpreter on a Slice whose
# constant steps reach 2**31 (onnx 1.17-1.23; found by tests/fuzz). ORT runs such a model.
_SAFE_STEP = 2**31 - 1


def _data_propagation_safe(proto: onnx.ModelProto) -> bool:
    """False when onnx's data propagation is known to crash on this model (then shapes are
    inferred without it)."""
    constants = {t.name: t for t in proto.graph.initializer}
    graphs = [proto.graph]
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            for attr in node.attribute:
                graphs.extend([attr.g] if attr.HasField("g") else list(attr.graphs))
                if node.op_type == "Constant" and attr.HasField("t"):
                    constants[node.output[0]] = attr.t
            if node.op_type == "Slice" and len(node.input) > 4 and node.input[4] in constants:
                try:
                    steps = onnx.numpy_helper.to_array(constants[node.input[4]])
                except Exception:  # malformed: the checker or the backends report it
                    return False
                if steps.size and abs(steps.astype("float64")).max() >= _SAFE_STEP:
                    return False
    return True


def detach_from_proto(model: ir.Model) -> None:
    """Gives every tensor the IR still reads from the parsed proto its own numpy copy.

    onnx_ir tensors made from a proto keep the whole parsed message alive (one arena), so a
    session that compiled its weights would otherwise hold them twice over. Copies one tensor at a
    time; the caller then drops its own references to the proto.
    """
    materialize(model)
    for graph in (model.graph, *model.graph.subgraphs()):
        for value in graph.initializers.values():
            tensor = value.const_value
            if _is_detachable(tensor):
                value.const_value = _own_copy(tensor)
        for node in graph:
            for name, attr in list(node.attributes.items()):
                if attr.type == ir.AttributeType.TENSOR and _is_detachable(attr.value):
                    node.attributes[name] = ir.AttrTensor(name, _own_copy(attr.value))


def _is_detachable(tensor: object) -> TypeIs[ir.serde.TensorProtoTensor]:
    # String tensors stay as they are (rare and small; onnx_ir keeps them apart).
    return isinstance(tensor, ir.serde.TensorProtoTensor) and tensor.dtype != ir.DataType.STRING


def _own_copy(tensor: ir.serde.TensorProtoTensor) -> ir.Tensor:
    return ir.Tensor(tensor.numpy(), dtype=tensor.dtype, shape=tensor.shape, name=tensor.name)


def metadata_only(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The model's metadata (producer, names, doc strings, metadata_props) without its graph."""
    meta = onnx.ModelProto()
    for field, value in proto.ListFields():
        if field.name != "graph":
            meta.MergeFrom(onnx.ModelProto(**{field.name: value}))
    meta.graph.name = proto.graph.name
    meta.graph.doc_string = proto.graph.doc_string
    return meta
