"""The pipe protocol between xinrt and an SDK worker: one message = header JSON + raw arrays.

Frame: 8-byte little-endian length, a UTF-8 JSON header of that length, then the bytes of every
array the header lists inline, in order. An array over `SHM_THRESHOLD` bytes travels as a file
in shared memory (/dev/shm where the OS has it) that the receiver reads and unlinks.

This module runs on both sides: inside the SDK's venv it is imported by `server.py` with only
the standard library and numpy available, so it must never import xinrt.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import uuid
from typing import IO, Any

import numpy as np

SHM_THRESHOLD = 1 << 20  # arrays at least this large go through shared memory
_LENGTH = struct.Struct("<Q")
_MAX_HEADER = 64 << 20


class ProtocolError(Exception):
    """The other side sent something that is not a message (it died, or wrote to our pipe)."""


def shm_folder() -> str:
    """/dev/shm where it exists and is writable (RAM-backed), else the temp folder."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return tempfile.gettempdir()


def shm_prefix() -> str:
    """File-name prefix of this process's shared-memory files (for cleanup after a crash)."""
    return f"xinrt-{os.getpid()}-"


def _describe(name: str, array: np.ndarray, use_shm: bool) -> tuple[dict[str, Any], bytes | None]:
    array = np.ascontiguousarray(array)
    entry: dict[str, Any] = {"name": name, "dtype": array.dtype.str, "shape": list(array.shape)}
    if use_shm and array.nbytes >= SHM_THRESHOLD:
        path = os.path.join(shm_folder(), shm_prefix() + uuid.uuid4().hex)
        with open(path, "wb") as handle:
            handle.write(array.data.cast("B"))
        entry["shm"] = path
        return entry, None
    entry["nbytes"] = array.nbytes
    return entry, array.tobytes()


def write_message(
    stream: IO[bytes],
    header: dict[str, Any],
    arrays: dict[str, np.ndarray] | None = None,
    use_shm: bool = True,
) -> list[str]:
    """Send one message: `header` must be JSON-serialisable; arrays go inline or via shm.

    Returns the shared-memory files written, which the receiver unlinks after reading."""
    described = []
    payloads: list[bytes] = []
    shm_files: list[str] = []
    for name, array in (arrays or {}).items():
        entry, data = _describe(name, np.asarray(array), use_shm)
        described.append(entry)
        if data is not None:
            payloads.append(data)
        else:
            shm_files.append(entry["shm"])
    text = json.dumps({**header, "arrays": described}).encode()
    stream.write(_LENGTH.pack(len(text)))
    stream.write(text)
    for data in payloads:
        stream.write(data)
    stream.flush()
    return shm_files


def _read_exact(stream: IO[bytes], count: int) -> bytes:
    chunks = []
    left = count
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ProtocolError(f"pipe closed with {left} of {count} bytes still to read")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_array(entry: dict[str, Any], stream: IO[bytes]) -> np.ndarray:
    """One array a header lists: from the stream, or from its shm file (then unlinked)."""
    dtype = np.dtype(entry["dtype"])
    shape = tuple(int(d) for d in entry["shape"])
    if "shm" in entry:
        path = str(entry["shm"])
        try:
            array = np.fromfile(path, dtype=dtype)
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        return array.reshape(shape)
    data = _read_exact(stream, int(entry["nbytes"]))
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def read_message(stream: IO[bytes]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Receive one message: (header, arrays by name)."""
    raw = stream.read(_LENGTH.size)
    if not raw:
        raise EOFError("pipe closed")
    if len(raw) < _LENGTH.size:
        raw += _read_exact(stream, _LENGTH.size - len(raw))
    (length,) = _LENGTH.unpack(raw)
    if length > _MAX_HEADER:
        raise ProtocolError(f"header of {length} bytes: not a message (stray output on the pipe?)")
    try:
        header = json.loads(_read_exact(stream, length))
    except ValueError as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from exc
    arrays = {entry["name"]: read_array(entry, stream) for entry in header.pop("arrays", [])}
    return header, arrays
