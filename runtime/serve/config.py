"""A served model's settings: the `config.yaml` beside its versions, or defaults.

backends: [cpu, ort]        # priority order, as InferenceSession(backends=...)
precision: fp32             # or fp16 / int8, or {backend: precision}
threads: 1                  # intra-op threads per replica (0: the CPU share of each replica)
max_batch_size: 8           # dynamic batching along dim 0 (0: off); needs a dynamic dim 0
max_queue_delay_us: 0       # how long a batch waits to fill (0: take what is queued)
replicas: 2                 # sessions of the model, each running one batch at a time
resources: {npu_rk3588: 1}  # Ray resources per replica (--ray only)
versions: latest            # latest: serve the highest version; all: every version
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError

CONFIG_FILE = "config.yaml"


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """How one model is served; every field has a default that works on a CPU."""

    backends: tuple[str, ...] | None = None
    precision: str | dict[str, str] = ""
    threads: int = 0
    max_batch_size: int | None = None  # None: 8 when dim 0 is dynamic, else 0
    max_queue_delay_us: int = 0
    replicas: int = 0  # 0: one per two CPU cores, at least one
    resources: dict[str, float] = dataclasses.field(default_factory=dict)
    versions: str = "latest"

    @staticmethod
    def cores() -> int:
        """The CPU cores this process may use (its affinity, else the machine's count)."""
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

    def replica_count(self, workers: int = 1) -> int:
        """Replicas to start in each worker process."""
        if self.replicas:
            return self.replicas
        return max(1, self.cores() // max(workers, 1))

    def thread_count(self, workers: int = 1) -> int:
        """Intra-op threads per replica: the given number, else the replica's CPU share."""
        if self.threads:
            return self.threads
        share = self.cores() // max(workers * self.replica_count(workers), 1)
        return max(1, share)


_INT_KEYS = ("threads", "max_batch_size", "max_queue_delay_us", "replicas")


def parse_config(data: Any, source: str) -> ModelConfig:
    """A ModelConfig from a decoded YAML mapping; unknown keys and wrong types are errors."""
    if data is None:
        return ModelConfig()
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"{source}: expected a mapping of settings, got {data!r}")
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise InvalidArgumentError(
            f"{source}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    values: dict[str, Any] = dict(data)
    for key in _INT_KEYS:
        if key in values and (not isinstance(values[key], int) or values[key] < 0):
            raise InvalidArgumentError(
                f"{source}: {key} must be a whole number >= 0, got {values[key]!r}"
            )
    if "backends" in values:
        backends = values["backends"]
        if isinstance(backends, str):
            backends = [b.strip() for b in backends.split(",") if b.strip()]
        if not isinstance(backends, list) or not all(isinstance(b, str) for b in backends):
            raise InvalidArgumentError(f"{source}: backends must be a list of names")
        values["backends"] = tuple(backends)
    if "resources" in values and not isinstance(values["resources"], dict):
        raise InvalidArgumentError(f"{source}: resources must be a mapping name -> amount")
    if values.get("versions", "latest") not in ("latest", "all"):
        raise InvalidArgumentError(f"{source}: versions must be 'latest' or 'all'")
    return ModelConfig(**values)


def load_config(model_dir: Path) -> ModelConfig:
    """The model folder's config.yaml, or the defaults when there is none."""
    path = model_dir / CONFIG_FILE
    if not path.is_file():
        return ModelConfig()
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"{path}: not valid YAML: {exc}") from exc
    return parse_config(data, str(path))
