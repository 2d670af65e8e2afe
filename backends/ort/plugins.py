"""Plugin execution-provider libraries (ORT's EP ABI): register one by path, or let xinrt register
every installed `onnxruntime-ep-*` package; the EP then answers to `ort:<ep>`.

A vendor package needs no xinrt code: ORT's own convention (a module with `get_library_path()`
and `get_ep_names()`, as onnxruntime-ep-webgpu and onnxruntime-ep-openvino ship) is enough. A
package that does not follow it may declare an entry point in the group `xinrt.ort_ep_libraries`
whose object is such a module or a callable returning the library path.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from xinrt.backend import get_backend
from xinrt.errors import BackendUnavailableError, InvalidArgumentError

from .runtime import onnxruntime

PACKAGE_PREFIX = "onnxruntime-ep-"
ENTRY_POINT_GROUP = "xinrt.ort_ep_libraries"
AUTOLOAD_ENV = "XINRT_ORT_PLUGIN_AUTOLOAD"  # "0" turns automatic registration off


@dataclass
class PluginPackage:
    """An installed plugin EP package and what registering it gave."""

    distribution: str
    version: str
    registration_name: str
    library: str = ""
    ep_names: list[str] = field(default_factory=list)
    error: str = ""  # why it could not be registered; "" when registered


_registered: dict[str, str] = {}  # registration name -> library path, in this process


def runtime_path() -> Path | None:
    """The folder ORT resolves relative library paths against (Env::GetRuntimePath(): the folder
    of the library holding ORT, onnxruntime/capi/ in the Python wheel)."""
    ort = onnxruntime()
    if ort is None:
        return None
    return Path(ort.__file__).resolve().parent / "capi"


def resolve_library_path(path: str | os.PathLike[str]) -> Path:
    """The file ORT will load for `path`: absolute as is, relative inside runtime_path()."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    base = runtime_path()
    return (base / candidate) if base is not None else candidate


def register_ep_library(name: str, path: str | os.PathLike[str]) -> None:
    """Load a plugin EP shared library into ONNX Runtime under the registration `name`.

    Relative paths follow ORT's rule: they are resolved inside onnxruntime/capi/, not against
    the current folder. Its EP then answers to `ort:<ep>` (e.g. `ort:webgpu`).
    """
    ort = onnxruntime()
    if ort is None:
        raise BackendUnavailableError(
            "onnxruntime is not installed; pip install onnxruntime to use plugin EPs"
        )
    resolved = resolve_library_path(path)
    if not resolved.is_file():
        where = (
            ""
            if Path(path).is_absolute()
            else f" (ORT resolves relative paths in {resolved.parent})"
        )
        raise InvalidArgumentError(
            f"plugin EP library {name!r}: file not found: {resolved}{where}; give the path of "
            "the library file, e.g. onnxruntime_ep_<vendor>.get_library_path()"
        )
    if not hasattr(ort, "register_execution_provider_library"):
        raise BackendUnavailableError(
            f"onnxruntime {ort.__version__} cannot load plugin EP libraries "
            "(needs onnxruntime >= 1.22)"
        )
    if _registered.get(name) == str(resolved):
        return
    try:
        ort.register_execution_provider_library(name, os.fspath(path))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendUnavailableError(
            f"plugin EP library {name!r} ({resolved}) failed to register in onnxruntime "
            f"{ort.__version__}: {first}"
        ) from None
    _registered[name] = str(resolved)
    get_backend.cache_clear()  # `ort:<ep>` instances made before must see the new EP


def _module_library(module: Any) -> tuple[str, list[str]]:
    """(library path, EP names) from a module or callable following ORT's plugin convention."""
    if callable(module) and not hasattr(module, "get_library_path"):
        return str(module()), []
    library = str(module.get_library_path())
    names = list(module.get_ep_names()) if hasattr(module, "get_ep_names") else []
    if not names and hasattr(module, "get_ep_name"):
        names = [str(module.get_ep_name())]
    return library, names


def _distribution_name(dist: metadata.Distribution) -> str:
    """The distribution's name, normalized (lowercase, "-"). importlib knows it from the
    .dist-info folder's name; reading every installed package's METADATA to find the few plugin
    packages would cost tens of milliseconds in each process that loads the ort backend."""
    name = getattr(dist, "_normalized_name", None)  # importlib's own (entry_points() uses it)
    if not isinstance(name, str) or not name:
        name = dist.metadata["Name"] or ""
    return re.sub(r"[-_.]+", "-", name).lower()


def _convention_packages() -> list[tuple[metadata.Distribution, str, Any]]:
    """(distribution, registration name, loader) for each installed plugin EP package."""
    found: list[tuple[metadata.Distribution, str, Any]] = []
    seen: set[str] = set()
    for dist in metadata.distributions():
        name = _distribution_name(dist)
        if not name.startswith(PACKAGE_PREFIX) or name in seen:
            continue
        seen.add(name)
        top = (dist.read_text("top_level.txt") or "").split()
        module = top[0] if top else name.replace("-", "_")
        found.append(
            (dist, name[len(PACKAGE_PREFIX) :], functools.partial(importlib.import_module, module))
        )
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        owner = entry.dist
        if owner is None or _distribution_name(owner) in seen:
            continue
        found.append((owner, entry.name, entry.load))
    return found


@functools.lru_cache(maxsize=1)
def installed_plugin_packages() -> tuple[PluginPackage, ...]:
    """Register every installed plugin EP package once per process (unless $XINRT_ORT_PLUGIN_
    AUTOLOAD is "0"); a package that fails is kept with its error for `xinrt backend doctor`."""
    ort = onnxruntime()
    packages: list[PluginPackage] = []
    if ort is None or not hasattr(ort, "register_execution_provider_library"):
        return ()
    for dist, registration, load in _convention_packages():
        package = PluginPackage(dist.metadata["Name"], dist.version, registration)
        try:
            package.library, package.ep_names = _module_library(load())
            if os.environ.get(AUTOLOAD_ENV, "1") == "0":
                package.error = f"not registered: ${AUTOLOAD_ENV}=0"
            else:
                register_ep_library(registration, package.library)
        except Exception as exc:  # a broken vendor package must not hide the others
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            package.error = first
        packages.append(package)
    return tuple(packages)
