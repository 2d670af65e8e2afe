"""Private per-process folders for what workers need on disk: shared-memory tensor files
(under /dev/shm, RAM-backed) and each worker's working folder and log (under the temp folder).

Each folder is `xinrt-<pid>-<random>`, mode 0700, created on first use by this process and
removed at its exit. A process killed before its exit handler runs leaves its folders behind:
the next xinrt process to create a folder in the same place removes those whose owning process
is gone (same user only).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

_PATTERN = re.compile(r"xinrt-(\d+)-")
# tensor files of xinrt versions before the private folders
_OLD_SHM_FILE = re.compile(r"xinrt-(\d+)-[0-9a-f]{32}$")
_lock = threading.Lock()
_folders: dict[str, tuple[int, Path]] = {}  # kind -> (pid that made it, folder)


def shm_root() -> Path:
    """/dev/shm where it exists and is writable (RAM-backed), else the temp folder."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return Path("/dev/shm")
    return Path(tempfile.gettempdir())


def _root(kind: str) -> Path:
    return shm_root() if kind == "shm" else Path(tempfile.gettempdir())


def private_folder(kind: str) -> Path:
    """This process's 0700 folder of a kind ("shm" or "work"), created on first use."""
    with _lock:
        known = _folders.get(kind)
        if known is not None and known[0] == os.getpid() and known[1].is_dir():
            return known[1]
        root = _root(kind)
        sweep_stale(root)
        folder = Path(tempfile.mkdtemp(prefix=f"xinrt-{os.getpid()}-", dir=root))  # 0700
        _folders[kind] = (os.getpid(), folder)
        return folder


def _remove_own_folders() -> None:
    for pid, folder in list(_folders.values()):
        if pid == os.getpid():  # a forked child must not remove its parent's folders
            shutil.rmtree(folder, ignore_errors=True)


atexit.register(_remove_own_folders)


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def sweep_stale(root: Path) -> int:
    """Remove the xinrt folders (and old-style tensor files) in `root` that belong to this user
    and to processes that no longer exist; returns how many were removed."""
    removed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        match = _PATTERN.match(name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        path = root / name
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if info.st_uid != os.getuid() or not _process_gone(int(match.group(1))):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        elif _OLD_SHM_FILE.match(name):
            try:
                os.unlink(path)
                removed += 1
            except OSError:
                pass
    return removed
