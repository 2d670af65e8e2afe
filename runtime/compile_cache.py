"""One on-disk cache of compiled partitions for every backend (`xinrt cache ls|clear`).

An entry is keyed by the partition's model bytes, its input shapes, the SDK version, the target
and the precision: a change in any of them is a miss. Each entry is two files under
`cache_dir()/compiled/<backend>/`: `<key>.bin` (the artifact, e.g. a kmodel; may be empty when
the SDK cannot reload one) and `<key>.json` (what was built, how long it took, its verified
error, the SHA-256 of the artifact). Every hit checks that hash; an entry that fails it (torn
write, edited bytes) is deleted and reads as a miss. A hash only proves the bytes are the ones
recorded, so a backend also re-verifies the numbers of a hit before use (WorkerBackend.build).
Writes are atomic; a read-only, full or untrusted cache folder only means nothing is cached.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from .cache import atomic_write, cache_dir, make_private_folder, untrusted


def compiled_root() -> Path:
    return cache_dir() / "compiled"


def compile_key(
    model: onnx.ModelProto,
    shapes: Mapping[str, Sequence[int]],
    sdk_version: str,
    target: str,
    precision: str,
    extra: str = "",
) -> str:
    """The cache key of one compile: partition hash, shapes, SDK version, target, precision."""
    digest = hashlib.sha256(model.SerializeToString(deterministic=True))
    described = json.dumps(
        [sorted((k, list(v)) for k, v in shapes.items()), sdk_version, target, precision, extra]
    )
    digest.update(described.encode())
    return digest.hexdigest()[:40]


@dataclass
class CacheEntry:
    """One compiled artifact on disk and what was recorded about it."""

    backend: str
    key: str
    size_bytes: int
    meta: dict[str, Any]


def _safe(backend: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in backend)


class CompileCache:
    """The compile cache of one backend (e.g. `rknn:rk3588`)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.folder = compiled_root() / _safe(backend)

    def get(self, key: str) -> tuple[bytes, dict[str, Any]] | None:
        """(artifact bytes, metadata) for a key, or None on a miss. An entry whose bytes do not
        match the hash recorded at compile time is deleted (a miss)."""
        if untrusted(self.folder):
            return None
        try:
            meta = json.loads((self.folder / f"{key}.json").read_text())
            data = (self.folder / f"{key}.bin").read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(data).hexdigest():
            self.drop(key)
            return None
        return data, meta

    def drop(self, key: str) -> None:
        """Delete one entry (it failed a check); a read-only folder keeps it, silently."""
        for suffix in (".json", ".bin"):
            try:
                (self.folder / f"{key}{suffix}").unlink(missing_ok=True)
            except OSError:
                pass

    def put(self, key: str, artifact: bytes, meta: Mapping[str, Any]) -> None:
        """Store an artifact and its metadata atomically (silently skipped if unwritable)."""
        record = {
            **meta,
            "backend": self.backend,
            "size_bytes": len(artifact),
            "sha256": hashlib.sha256(artifact).hexdigest(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        if untrusted(self.folder):
            return
        try:
            make_private_folder(self.folder)
            atomic_write(self.folder / f"{key}.bin", artifact)
            atomic_write(self.folder / f"{key}.json", json.dumps(record, indent=2).encode())
        except OSError:
            self.drop(key)  # half an entry (disk full after the .bin) is no entry


def entries(backend: str | None = None) -> list[CacheEntry]:
    """Every cached compile (of one backend, or all), oldest first."""
    root = compiled_root()
    found = []
    for meta_path in sorted(root.glob("*/*.json")):
        try:
            meta = json.loads(meta_path.read_text())
            size = int(meta.get("size_bytes", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            continue  # not an entry this xinrt wrote
        name = str(meta.get("backend", meta_path.parent.name))
        if backend is not None and name != backend and meta_path.parent.name != _safe(backend):
            continue
        found.append(CacheEntry(name, meta_path.stem, size, meta))
    return sorted(found, key=lambda e: str(e.meta.get("created", "")))


def clear(backend: str | None = None, capabilities: bool = True) -> int:
    """Delete cached compiles (one backend's or all) and, by default, the capability caches.

    Worker venvs (`envs/`) are never touched. Returns how many files were removed."""
    removed = 0
    root = compiled_root()
    folders = [root / _safe(backend)] if backend else [p for p in root.glob("*") if p.is_dir()]
    for folder in folders:
        if folder.is_dir():
            removed += sum(1 for p in folder.iterdir() if p.is_file())
            shutil.rmtree(folder, ignore_errors=True)
    if capabilities:
        pattern = f"*{_safe(backend.split(':')[0])}*.json" if backend else "*.json"
        for path in cache_dir().glob(pattern):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _cmd_ls(args: argparse.Namespace) -> int:
    found = entries(args.backend)
    if args.json:
        print(json.dumps([e.__dict__ for e in found], indent=2))
        return 0
    print(f"compile cache: {compiled_root()}")
    if not found:
        print("  (empty)")
    for entry in found:
        meta = entry.meta
        print(
            f"  {entry.backend:<16} {entry.key[:12]}  {entry.size_bytes / 1e6:8.2f} MB  "
            f"{meta.get('precision', '?'):<5} sdk {meta.get('sdk_version', '?'):<10} "
            f"compile {_seconds(meta.get('compile_s')):7.2f} s  {meta.get('created', '')}  "
            f"{meta.get('model', '')}"
        )
    _print_placement_costs(args.backend)
    capability = sorted(cache_dir().glob("*.json"))
    if capability:
        print(f"capability caches: {', '.join(p.name for p in capability)}")
    return 0


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _print_placement_costs(backend: str | None) -> None:
    from .cost_cache import cost_entries

    costs = [c for c in cost_entries() if backend is None or backend in str(c.get("backend", ""))]
    print(f"placement costs (SessionOptions.placement = 'fastest'): {len(costs)}")
    for cost in costs:
        if "seconds" in cost:
            value = f"{float(cost['seconds']) * 1e3:10.3f} ms"
        elif "failed" in cost:
            value = f"{'failed':>13}"
        else:
            value = f"{float(cost.get('dispatch_s', 0.0)) * 1e3:10.4f} ms/call"
        print(
            f"  {str(cost.get('backend', '?')):<16} {cost['key'][:12]}  {value}  "
            f"threads {cost.get('threads', '?')}  {cost.get('created', '')}  {cost.get('what', '')}"
        )


def _cmd_clear(args: argparse.Namespace) -> int:
    removed = clear(args.backend, capabilities=not args.compiled_only)
    print(f"removed {removed} cached files from {cache_dir()} (worker venvs kept)")
    return 0


def register(subparsers: Any) -> None:
    """Add `xinrt cache ls|clear` to the xinrt command line."""
    cache = subparsers.add_parser("cache", help="list or clear compiled partitions and probes")
    sub = cache.add_subparsers(dest="cache_command", required=True)
    ls = sub.add_parser("ls", help="list cached compiles")
    ls.add_argument("--backend", help="only this backend, e.g. rknn:rk3588")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_cmd_ls)
    clear_parser = sub.add_parser("clear", help="delete cached compiles and capability probes")
    clear_parser.add_argument("--backend", help="only this backend, e.g. nncase:k230")
    clear_parser.add_argument(
        "--compiled-only", action="store_true", help="keep the capability probe caches"
    )
    clear_parser.set_defaults(func=_cmd_clear)
