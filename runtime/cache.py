"""Where xinrt keeps what it learns between processes (capability probes, compiled artifacts).

The cache folder is trusted only when it belongs to the user (or root) and nobody else may
write to it: an entry planted by another user could claim a node or hand a worker a crafted
artifact. An untrusted cache folder is ignored with a warning (nothing read, nothing written);
sessions work, uncached. See docs/security.md.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
import warnings
from pathlib import Path


def cache_dir() -> Path:
    """$XINRT_CACHE_DIR, else $XDG_CACHE_HOME/xinrt, else ~/.cache/xinrt."""
    explicit = os.environ.get("XINRT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xinrt"


def trust_problem(path: Path) -> str:
    """ "" when `path` (if it exists) belongs to this user or root and is not writable by group
    or others, else what is wrong and the fix. Links are followed."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"{path}: cannot check its owner ({exc.strerror})"
    if info.st_uid not in (os.getuid(), 0):
        return f"{path} belongs to user id {info.st_uid}, not to you (id {os.getuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} is writable by group or others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run `chmod go-w {path}`"
        )
    return ""


def chain_problem(folder: Path, top: Path) -> str:
    """The first trust problem of `top` and every folder below it down to `folder`."""
    path = top
    problem = trust_problem(path)
    for part in folder.relative_to(top).parts if folder != top else ():
        if problem:
            break
        path = path / part
        problem = trust_problem(path)
    return problem


_warned: set[str] = set()
_warned_lock = threading.Lock()


def untrusted(folder: Path) -> bool:
    """True (with one warning per problem) when a folder under `cache_dir()` must be ignored."""
    top = cache_dir()
    try:
        problem = chain_problem(folder, top)
    except ValueError:  # not under the cache folder
        problem = trust_problem(folder)
    if problem:
        with _warned_lock:
            if problem not in _warned:
                _warned.add(problem)
                warnings.warn(
                    f"xinrt: ignoring the cache folder: {problem}", RuntimeWarning, stacklevel=3
                )
    return bool(problem)


def make_private_folder(folder: Path) -> None:
    """Create a folder and its missing parents, each readable and writable by this user only."""
    missing = []
    path = folder
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file through a temporary file and a rename; the temporary goes on any error
    (a full disk must not leave half files behind)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write_bytes(handle, data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_bytes(handle: object, data: bytes) -> None:
    """The one place cache bytes hit the disk (tests make it fail as a full disk does)."""
    handle.write(data)  # type: ignore[attr-defined]


class JsonCache:
    """A small string -> string map persisted as one JSON file, written atomically."""

    def __init__(self, name: str) -> None:
        self.path = cache_dir() / f"{name}.json"
        self._lock = threading.Lock()
        self._dirty = False
        self._data: dict[str, str] = {}
        if untrusted(self.path.parent):
            return
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if isinstance(data, dict):  # a damaged file is an empty cache, never an error
            self._data = {str(k): v for k, v in data.items() if isinstance(v, str)}

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def items(self) -> list[tuple[str, str]]:
        """Every (key, value), e.g. for `xinrt cache ls`."""
        with self._lock:
            return list(self._data.items())

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._data[key] = value
            self._dirty = True

    def flush(self) -> None:
        """Write the file if anything changed; a read-only or full cache folder is not an error."""
        with self._lock:
            if not self._dirty or untrusted(self.path.parent):
                return
            try:
                make_private_folder(self.path.parent)
                atomic_write(self.path, json.dumps(self._data).encode())
                self._dirty = False
            except OSError:
                pass
