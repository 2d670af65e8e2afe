"""The pipe protocol between xinrt and an SDK worker: one message = header JSON + raw arrays.

Frame: 8-byte little-endian length, a UTF-8 JSON object of that length, then the bytes of every
array the header lists inline, in order. An array of `SHM_THRESHOLD` bytes or more travels as a
file in shared memory when the sender was given a file-name prefix: the k-th array of the
message is the file `<prefix><k>` and its entry says only `"shm": true`. The prefix always comes
from xinrt (the parent), which also removes the files, so a worker can never make xinrt read or
delete a path of its choosing.

Everything read is validated field by field (`ProtocolError` on anything malformed), so a bad
message never escapes as a raw TypeError/KeyError and never makes a reader wait for bytes that
will not come.

This module runs on both sides: inside the SDK's venv it is imported by `server.py` with only
the standard library and numpy available, so it must never import xinrt.
"""

from __future__ import annotations

import json
import os
import stat
import struct
from typing import IO, Any

import numpy as np

SHM_THRESHOLD = 1 << 20  # arrays at least this large go through shared memory
MAX_HEADER = 64 << 20  # bytes of JSON header
MAX_ARRAY_BYTES = 1 << 38  # 256 GiB: larger is not a tensor, it is a corrupt count
MAX_ARRAYS = 100_000
MAX_RANK = 64
_LENGTH = struct.Struct("<Q")
_KINDS = "biufc"  # bool, ints, floats, complex: no objects, strings or structured records


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


def byte_view(array: np.ndarray) -> memoryview:
    """The raw bytes of a contiguous array of any dtype and rank, without a copy."""
    return array.reshape(-1).view(np.uint8).data


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        written = os.write(fd, data[: 1 << 24])
        data = data[written:]


def _write_shm(path: str, array: np.ndarray) -> None:
    """A new 0600 file that must not exist yet (no following a planted link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        _write_all(fd, byte_view(array))
    except BaseException:
        os.unlink(path)
        raise
    finally:
        os.close(fd)


def write_message(
    stream: IO[bytes],
    header: dict[str, Any],
    arrays: dict[str, np.ndarray] | None = None,
    shm_prefix: str | None = None,
) -> list[str]:
    """Send one message: `header` must be JSON-serialisable; arrays go inline or via shm.

    Large arrays go to `<shm_prefix><k>` files when a prefix is given; returns those paths
    (the parent removes them once the exchange is over)."""
    described = []
    payloads: list[memoryview] = []
    shm_files: list[str] = []
    for index, (name, value) in enumerate((arrays or {}).items()):
        array = np.ascontiguousarray(value)
        entry: dict[str, Any] = {"name": name, "dtype": array.dtype.str, "shape": [*array.shape]}
        described.append(entry)
        if shm_prefix is not None and array.nbytes >= SHM_THRESHOLD:
            path = f"{shm_prefix}{index}"
            try:
                _write_shm(path, array)
            except OSError:  # shared memory full, or a name already taken: use the pipe
                pass
            else:
                shm_files.append(path)
                entry["shm"] = True
                continue
        entry["nbytes"] = array.nbytes
        payloads.append(byte_view(array))
    text = json.dumps({**header, "arrays": described}).encode()
    stream.write(_LENGTH.pack(len(text)) + text)
    for data in payloads:
        stream.write(data)
    stream.flush()
    return shm_files


def _read_exact(stream: IO[bytes], count: int) -> bytes:
    if count < 0:
        raise ProtocolError(f"a negative byte count ({count})")
    chunks = []
    left = count
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ProtocolError(f"pipe closed with {left} of {count} bytes still to read")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_header(stream: IO[bytes]) -> dict[str, Any]:
    """The JSON header of the next message; EOFError when the pipe closed between messages."""
    raw = stream.read(_LENGTH.size)
    if not raw:
        raise EOFError("pipe closed")
    if len(raw) < _LENGTH.size:
        raw += _read_exact(stream, _LENGTH.size - len(raw))
    (length,) = _LENGTH.unpack(raw)
    if not 2 <= length <= MAX_HEADER:
        raise ProtocolError(f"header of {length} bytes: not a message (stray output on the pipe?)")
    try:
        header = json.loads(_read_exact(stream, length))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header is a JSON {type(header).__name__}, not an object")
    return header


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_entry(entry: Any, index: int) -> tuple[str, np.dtype, tuple[int, ...], int]:
    """(name, dtype, shape, nbytes) of one array entry, or ProtocolError naming the fault."""
    if not isinstance(entry, dict):
        raise ProtocolError(f"array entry {index} is not an object")
    name, dtype_text, shape = entry.get("name"), entry.get("dtype"), entry.get("shape")
    if not isinstance(name, str):
        raise ProtocolError(f"array entry {index}: name {name!r} is not a string")
    if not isinstance(dtype_text, str) or len(dtype_text) > 16:
        raise ProtocolError(f"array {name!r}: dtype {dtype_text!r} is not a dtype string")
    try:
        dtype = np.dtype(dtype_text)
    except (TypeError, ValueError):
        raise ProtocolError(f"array {name!r}: unknown dtype {dtype_text!r}") from None
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"array {name!r}: dtype {dtype_text!r} is not a numeric type")
    if not isinstance(shape, list) or len(shape) > MAX_RANK:
        raise ProtocolError(f"array {name!r}: shape {shape!r} is not a list of dims")
    nbytes = dtype.itemsize
    for dim in shape:
        if not _is_int(dim) or dim < 0:
            raise ProtocolError(f"array {name!r}: shape {shape!r} has a dim that is not >= 0")
        nbytes *= dim  # Python ints: no overflow; the bound below catches absurd shapes
    if nbytes > MAX_ARRAY_BYTES:
        raise ProtocolError(f"array {name!r}: shape {shape} makes {nbytes} bytes")
    if "shm" in entry:
        if entry["shm"] is not True or "nbytes" in entry:
            raise ProtocolError(f"array {name!r}: 'shm' must be true (the receiver names files)")
    else:
        declared = entry.get("nbytes")
        if not _is_int(declared) or declared != nbytes:
            raise ProtocolError(
                f"array {name!r}: nbytes {declared!r}, but dtype {dtype.str} x shape {shape} "
                f"is {nbytes} bytes"
            )
    return name, dtype, tuple(shape), nbytes


def _read_shm(path: str, dtype: np.dtype, shape: tuple[int, ...], nbytes: int) -> np.ndarray:
    """A shared-memory file of exactly `nbytes` bytes: a regular file, not a link."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ProtocolError(f"shared-memory file missing: {exc.strerror}") from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != nbytes:
            raise ProtocolError(
                f"shared-memory file {os.path.basename(path)}: {info.st_size} bytes, "
                f"expected a regular file of {nbytes}"
            )
        array = np.empty(shape, dtype=dtype)
        view = byte_view(array)
        filled = 0
        while filled < nbytes:
            got = handle.readinto(view[filled:])
            if not got:
                raise ProtocolError(f"shared-memory file {os.path.basename(path)} shrank")
            filled += got
    return array


def read_arrays(
    header: dict[str, Any], stream: IO[bytes], shm_prefix: str | None
) -> dict[str, np.ndarray]:
    """The arrays a header lists (removed from it): inline from the stream, or from
    `<shm_prefix><k>` files. Files are not deleted here: their owner (xinrt) does that."""
    entries = header.pop("arrays", [])
    if not isinstance(entries, list) or len(entries) > MAX_ARRAYS:
        raise ProtocolError("'arrays' is not a list of array entries")
    checked = [_checked_entry(entry, index) for index, entry in enumerate(entries)]
    names = [name for name, _, _, _ in checked]
    if len(set(names)) != len(names):
        raise ProtocolError(f"array names repeat: {names}")
    arrays: dict[str, np.ndarray] = {}
    for index, (name, dtype, shape, nbytes) in enumerate(checked):
        if "shm" in entries[index]:
            if shm_prefix is None:
                raise ProtocolError(f"array {name!r} in shared memory, but none was offered")
            arrays[name] = _read_shm(f"{shm_prefix}{index}", dtype, shape, nbytes)
        else:
            data = _read_exact(stream, nbytes)
            arrays[name] = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return arrays


def read_message(
    stream: IO[bytes], shm_prefix: str | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Receive one message: (header, arrays by name)."""
    header = read_header(stream)
    return header, read_arrays(header, stream, shm_prefix)
