"""Read a model file without reading its weights.

A 100 MB model is nearly all initializer bytes, which xinrt's own checks never look at and which
a backend that takes the file as given (ORT) reads itself. `skim_model_file` walks the protobuf
wire format of the file through a memory map, copies everything but the large `raw_data` fields
of the main graph's initializers, and turns those initializers into external-data references to
their place in the file itself (location, offset, length). Only the pages holding the graph are
read. `lazy_weights` then gives the IR a tensor per skimmed initializer that reads its bytes with
one positioned read of the still-open file on first use.

Anything the walk does not expect (a truncated or corrupt file, a field of the wrong wire type)
makes it give up and return None: the caller then reads the file whole, whose protobuf parser
names the problem.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnx_ir as ir

from .errors import InvalidModelError

# A raw_data field longer than this is left in the file: the size above which the checker and
# shape inference see an initializer as a typed input only (model.py), never its data.
LARGE_TENSOR_BYTES = 4096
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_MODEL_GRAPH, _GRAPH_INITIALIZER = 7, 5
_TENSOR_DATA_TYPE, _TENSOR_NAME, _TENSOR_RAW_DATA = 2, 8, 9
_TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = 13, 14
# Element types whose raw data is plain little-endian numbers, one per element (no packing).
_PLAIN_TYPES = frozenset({
    onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
    onnx.TensorProto.BFLOAT16, onnx.TensorProto.INT8, onnx.TensorProto.UINT8,
    onnx.TensorProto.INT16, onnx.TensorProto.UINT16, onnx.TensorProto.INT32,
    onnx.TensorProto.UINT32, onnx.TensorProto.INT64, onnx.TensorProto.UINT64,
    onnx.TensorProto.BOOL,
})  # fmt: skip


class _Malformed(Exception):
    """The bytes are not the protobuf the walk expects."""


class SkimmedFile:
    """The open model file the skimmed weights stay in. Holding it open keeps the bytes readable
    when the path is deleted or replaced by a new file; writing over the file in place is seen
    (its size or modification time changes) and refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        stat = os.fstat(self._fd)
        self.size, self._mtime_ns = stat.st_size, stat.st_mtime_ns

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)

    @property
    def fileno(self) -> int:
        return self._fd

    def read(self, offset: int, length: int) -> bytes | None:
        """The bytes, or None when the file was written over since it was opened."""
        stat = os.fstat(self._fd)
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self._mtime_ns):
            return None
        return os.pread(self._fd, length, offset)


@dataclass
class SkimmedModel:
    """The model with its large weights left in the file, and where each one is."""

    proto: onnx.ModelProto
    file: SkimmedFile
    weights: dict[str, tuple[int, int]]  # initializer name -> (offset, length) in the file


def skim_model_file(path: Path) -> SkimmedModel | None:
    """The model of `path` without its large main-graph weights, or None when the file is
    small, not protobuf as expected, or holds no weight worth leaving out."""
    file = SkimmedFile(path)
    if file.size <= LARGE_TENSOR_BYTES:
        return None
    with mmap.mmap(file.fileno, 0, access=mmap.ACCESS_READ) as data:
        try:
            parts, weights = _skim_model(memoryview(data))
        except _Malformed:
            return None
    if not weights:
        return None
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(b"".join(parts))
    except Exception:  # the walk accepted what protobuf does not: let the full read say why
        return None
    if len(weights) != sum(1 for t in proto.graph.initializer if t.name in weights):
        return None  # two initializers of one name: the checker reports it on the full read
    return SkimmedModel(proto, file, weights)


def _skim_model(data: memoryview) -> tuple[list[bytes], dict[str, tuple[int, int]]]:
    parts: list[bytes] = []
    weights: dict[str, tuple[int, int]] = {}
    for number, wire, start, value_start, end in _fields(data, 0, len(data)):
        if (number, wire) != (_MODEL_GRAPH, _LEN):
            parts.append(bytes(data[start:end]))
            continue
        parts.append(_length_delimited(number, _skim_graph(data, value_start, end, weights)))
    return parts, weights


def _skim_graph(
    data: memoryview, begin: int, end: int, weights: dict[str, tuple[int, int]]
) -> bytes:
    out: list[bytes] = []
    for number, wire, start, value_start, field_end in _fields(data, begin, end):
        if (number, wire) == (_GRAPH_INITIALIZER, _LEN):
            tensor = _skim_tensor(data, value_start, field_end, weights)
            if tensor is not None:
                out.append(_length_delimited(number, tensor))
                continue
        out.append(bytes(data[start:field_end]))
    return b"".join(out)


def _skim_tensor(
    data: memoryview, begin: int, end: int, weights: dict[str, tuple[int, int]]
) -> bytes | None:
    """The tensor without its raw_data, pointing at it instead; None to keep it as it is."""
    kept: list[bytes] = []
    name: str | None = None
    raw: tuple[int, int] | None = None
    data_type = 0
    for number, wire, start, value_start, field_end in _fields(data, begin, end):
        if number in (_TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION):
            return None  # already external (or says where its data is): not ours to move
        if (number, wire) == (_TENSOR_DATA_TYPE, _VARINT):
            data_type = _read_varint(data, value_start, field_end)[0]
        if (number, wire) == (_TENSOR_NAME, _LEN):
            try:
                name = bytes(data[value_start:field_end]).decode("utf-8")
            except UnicodeDecodeError:
                return None
        if (number, wire) == (_TENSOR_RAW_DATA, _LEN):
            if raw is not None:
                return None  # a repeated raw_data field: protobuf keeps the last; keep it simple
            raw = (value_start, field_end - value_start)
            continue
        kept.append(bytes(data[start:field_end]))
    if name is None or raw is None or raw[1] <= LARGE_TENSOR_BYTES or name in weights:
        return None
    if data_type not in _PLAIN_TYPES:
        return None
    weights[name] = raw
    reference = b"".join(
        _length_delimited(_TENSOR_EXTERNAL_DATA, _entry(key, str(value)))
        for key, value in ((b"offset", raw[0]), (b"length", raw[1]))
    )
    location = _key(_TENSOR_DATA_LOCATION, _VARINT) + _varint(onnx.TensorProto.EXTERNAL)
    return b"".join(kept) + reference + location


def _entry(key: bytes, value: str) -> bytes:
    """A StringStringEntryProto (key = 1, value = 2)."""
    return _length_delimited(1, key) + _length_delimited(2, value.encode())


def _length_delimited(number: int, payload: bytes) -> bytes:
    """Field `number` holding `payload` (bytes, a string or a message)."""
    return _key(number, _LEN) + _varint(len(payload)) + payload


def _fields(data: memoryview, begin: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, start of its key, start of its value, end) of each field in
    [begin, end)."""
    position = begin
    while position < end:
        start = position
        key, position = _read_varint(data, position, end)
        wire = key & 7
        if wire == _VARINT:
            value_start = position
            _, position = _read_varint(data, position, end)
        elif wire == _LEN:
            length, value_start = _read_varint(data, position, end)
            position = value_start + length
        elif wire in (_I64, _I32):
            value_start = position
            position += 8 if wire == _I64 else 4
        else:  # groups (wire types 3, 4) are not in onnx.proto
            raise _Malformed
        if position > end or key >> 3 == 0:
            raise _Malformed
        yield key >> 3, wire, start, value_start, position


def _read_varint(data: memoryview, position: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= end or shift > 63:
            raise _Malformed
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def lazy_weights(model: ir.Model, skimmed: SkimmedModel, label: str) -> None:
    """Give each skimmed initializer of the IR a tensor that reads its bytes from the file on
    first use (and keeps them)."""
    initializers = model.graph.initializers
    for name, (offset, length) in skimmed.weights.items():
        value = initializers.get(name)
        if value is None or value.const_value is None:
            continue
        old = value.const_value
        shape = ir.Shape(old.shape.numpy())
        read = _reader(skimmed.file, offset, length, old.dtype, shape, name, label)
        value.const_value = ir.LazyTensor(read, dtype=old.dtype, shape=shape, name=name, cache=True)


def _reader(
    file: SkimmedFile,
    offset: int,
    length: int,
    dtype: ir.DataType,
    shape: ir.Shape,
    name: str,
    label: str,
) -> Callable[[], ir.TensorProtocol]:
    def read() -> ir.TensorProtocol:
        raw = file.read(offset, length)
        if raw is None:
            raise InvalidModelError(
                f"{label}: the model file was written over after the session read it; "
                f"initializer {name!r} can no longer be read from it. Create the session again"
            )
        if len(raw) != length:
            raise InvalidModelError(f"{label}: initializer {name!r} is cut short in the file")
        array = np.frombuffer(raw, dtype=dtype.numpy().newbyteorder("<"))
        return ir.Tensor(array.reshape(shape.numpy()), dtype=dtype, name=name)

    return read


def materialize(model: ir.Model) -> None:
    """Read every weight still left in the model file, so the IR no longer depends on it."""
    for value in model.graph.initializers.values():
        tensor = value.const_value
        if isinstance(tensor, ir.LazyTensor):
            value.const_value = ir.Tensor(tensor.numpy(), dtype=tensor.dtype, name=tensor.name)
