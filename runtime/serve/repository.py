"""The model repository: `repo/<model>/<version>/model.onnx` + `repo/<model>/config.yaml`, or one
model file served alone (`xinrt serve model.onnx`: model name = file stem, version 1).

Loading builds the sessions in a worker thread, so load/unload requests never stall serving.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kserve.model_repository import ModelRepository

from ..errors import InvalidArgumentError, ModelNotFoundError
from .config import ModelConfig, load_config
from .model import XinrtModel, version_key
from .runner import VersionRunner

MODEL_FILE = "model.onnx"


@dataclass(frozen=True)
class ModelSource:
    """Where one model's versions live and how to serve them."""

    name: str
    versions: dict[str, Path]
    config: ModelConfig

    def to_load(self) -> dict[str, Path]:
        """The versions the config's policy serves: the highest, or all."""
        if self.config.versions == "all":
            return dict(self.versions)
        latest = max(self.versions, key=version_key)
        return {latest: self.versions[latest]}


def scan(root: Path) -> dict[str, ModelSource]:
    """Every model under a repository folder, or the one model a .onnx path names."""
    if root.is_file():
        return {root.stem: ModelSource(root.stem, {"1": root}, load_config(root.parent))}
    if not root.is_dir():
        raise ModelNotFoundError(f"no model file or repository folder at {root}")
    found: dict[str, ModelSource] = {}
    for model_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        versions = {
            v.name: v / MODEL_FILE
            for v in model_dir.iterdir()
            if v.is_dir() and v.name.isdigit() and (v / MODEL_FILE).is_file()
        }
        if versions:
            found[model_dir.name] = ModelSource(model_dir.name, versions, load_config(model_dir))
    if not found:
        raise InvalidArgumentError(
            f"{root} holds no model: expected {root}/<model>/<version>/{MODEL_FILE} "
            "(version: a number), or give a .onnx file"
        )
    return found


class XinrtRepository(ModelRepository):
    """KServe's registry of live models, filled from a folder or a single file."""

    def __init__(
        self, root: Path, workers: int = 1, overrides: dict[str, Any] | None = None
    ) -> None:
        super().__init__(models_dir=str(root))
        self.root = root
        self.workers = workers
        self.overrides = dict(overrides or {})
        self.sources = self._scan()
        self.failures: dict[str, str] = {}

    def _scan(self) -> dict[str, ModelSource]:
        """The repository's models, with the command line's settings over each config.yaml
        (--replicas or --backends replace a `replicas:` list)."""
        overrides = dict(self.overrides)
        if {"replicas", "backends"} & set(overrides):
            overrides.setdefault("groups", ())
        return {
            name: dataclasses.replace(
                source, config=dataclasses.replace(source.config, **overrides)
            )
            for name, source in scan(self.root).items()
        }

    def build(self, name: str) -> XinrtModel:
        """Compile every served version of one model (blocking: run it in a thread)."""
        source = self.sources.get(name)
        if source is None:
            raise InvalidArgumentError(
                f"model {name!r} is not in the repository {self.root}; "
                f"models: {', '.join(self.sources) or '(none)'}"
            )
        runners = {
            version: VersionRunner(name, version, path, source.config, self.workers)
            for version, path in source.to_load().items()
        }
        return XinrtModel(name, runners)

    async def load(self, name: str) -> bool:  # type: ignore[override]
        """(Re)load a model: rescan its folder, compile off the event loop, then swap it in."""
        if self.root.is_dir():
            self.sources = self._scan()
        try:
            model = await asyncio.get_running_loop().run_in_executor(None, self.build, name)
        except Exception as exc:
            self.failures[name] = f"{type(exc).__name__}: {exc}"
            raise
        self.failures.pop(name, None)
        old = self.models.get(name)
        model.start()
        self.update(model)
        if isinstance(old, XinrtModel):
            old.stop()
            await old.stop_async()
        return True

    async def load_all(self) -> None:
        """Load every model in the repository, all at once."""
        await asyncio.gather(*(self.load(name) for name in self.sources))

    async def unload_async(self, name: str) -> None:
        """Take a model out of service after its queued requests are answered."""
        model = self.models.get(name)
        self.unload(name)  # KeyError for an unknown model, as KServe expects
        if isinstance(model, XinrtModel):
            await model.stop_async()

    def index(self) -> list[dict[str, Any]]:
        """Triton's repository index: every model version found, with its state."""
        entries = []
        for name, source in sorted(self.sources.items()):
            model = self.models.get(name)
            for version in sorted(source.versions, key=version_key):
                entry: dict[str, Any] = {"name": name, "version": version}
                if isinstance(model, XinrtModel) and version in model.runners and model.ready:
                    entry["state"] = "READY"
                else:
                    entry["state"] = "UNAVAILABLE"
                    entry["reason"] = self.failures.get(name, "unloaded")
                entries.append(entry)
        return entries
