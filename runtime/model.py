"""Load and validate a model given as a path, bytes or ModelProto, then lift it into onnx_ir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import onnx
import onnx_ir as ir
from google.protobuf.message import DecodeError
from onnx import external_data_helper

from .errors import ExternalDataError, InvalidModelError, ModelNotFoundError

ModelSource = Union[str, "os.PathLike[str]", bytes, onnx.ModelProto]


@dataclass
class LoadedModel:
    """The validated model: the proto as given (external data loaded) and its onnx_ir graph."""

    proto: onnx.ModelProto
    ir_model: ir.Model
    label: str  # how error messages name the model: its path, or "<bytes>" / "<ModelProto>"


def load_model(
    source: ModelSource, *, base_dir: str | os.PathLike[str] | None = None
) -> LoadedModel:
    """Read, check and lift a model; every failure is an InvalidModelError naming the model."""
    if isinstance(source, onnx.ModelProto):
        proto, label = _copy(source), "<ModelProto>"
    elif isinstance(source, (bytes, bytearray, memoryview)):
        proto, label = _parse(bytes(source), "<bytes>"), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = str(path)
        if not path.is_file():
            raise ModelNotFoundError(f"model file not found: {label}")
        proto = _parse(path.read_bytes(), label)
        base_dir = base_dir if base_dir is not None else path.parent
    else:
        raise InvalidModelError(
            f"model must be a path, bytes or onnx.ModelProto, got {type(source).__name__}"
        )
    _load_external_data(proto, label, base_dir)
    _check(proto, label)
    name_unnamed_nodes(proto.graph)
    return LoadedModel(proto=proto, ir_model=ir.from_proto(_infer_shapes(proto)), label=label)


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


def _external_tensors(proto: onnx.ModelProto) -> list[onnx.TensorProto]:
    return [
        t
        for t in external_data_helper._get_all_tensors(proto)
        if external_data_helper.uses_external_data(t)
    ]


def _load_external_data(
    proto: onnx.ModelProto, label: str, base_dir: str | os.PathLike[str] | None
) -> None:
    tensors = _external_tensors(proto)
    if not tensors:
        return
    if base_dir is None:
        raise ExternalDataError(
            f"{label} references external data (tensor {tensors[0].name!r}) but was not given "
            "as a path; load it from its file or pass base_dir="
        )
    root = Path(base_dir).resolve()
    for tensor in tensors:
        info = external_data_helper.ExternalDataInfo(tensor)
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
        size = target.stat().st_size
        end = (info.offset or 0) + (info.length or 0)
        if end > size:
            raise ExternalDataError(
                f"{label}: tensor {tensor.name!r} wants bytes up to {end} of {location!r}, "
                f"which has {size}"
            )
    try:
        external_data_helper.load_external_data_for_model(proto, str(root))
    except (OSError, ValueError) as exc:
        raise ExternalDataError(f"{label}: cannot load external data: {exc}") from None


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
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidModelError(f"{label} fails the ONNX checker: {first}") from None


def name_unnamed_nodes(graph: onnx.GraphProto) -> None:
    """Give every node a unique name (placement reports and overrides refer to nodes by name)."""
    seen: set[str] = set()
    for index, node in enumerate(graph.node):
        name = node.name or f"{node.op_type}_{index}"
        while name in seen:
            name = f"{name}_{index}"
        node.name = name
        seen.add(name)


def _infer_shapes(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Types and shapes for every value where onnx can infer them; the model as-is otherwise."""
    try:
        return onnx.shape_inference.infer_shapes(proto, data_prop=True)
    except Exception:  # inference is a best effort; backends see unknown types as such
        return proto
