"""A served model's settings: the `config.yaml` beside its versions, or defaults.

backends: [cpu, ort]        # priority order, as InferenceSession(backends=...)
precision: fp32             # or fp16 / bf16 / int8, or {backend: precision}
threads: 1                  # intra-op threads per replica (0: the CPU share of each replica)
max_batch_size: 8           # dynamic batching along dim 0 (0: off); needs a dynamic dim 0
max_queue_delay_us: 0       # how long a request may wait for its batch to fill (0: no waiting)
preferred_batch_sizes: [4, 8]  # batch sizes the backend runs best: a batch runs as soon as it
                            # reaches one (with max_queue_delay_us > 0, as in Triton)
replicas: 2                 # sessions of the model, each running one batch at a time
resources: {npu_rk3588: 1}  # Ray resources per replica (--ray only)
num_cpus: 1                 # Ray CPUs per replica (--ray only); threads default to this share
autoscaling: {min_replicas: 1, max_replicas: 4, target_ongoing_requests: 2}  # --ray only
max_ongoing_requests: 64    # requests one Ray replica holds at once (--ray only)
versions: latest            # latest: serve the highest version; all: every version

`replicas` may instead list replica kinds, each with its backends and what it takes from Ray:

replicas:
  - {backends: ["rknn:rk3588"], resources: {npu_rk3588: 1}, count: 1}
  - {backends: [cpu], count: 2}      # also: num_cpus, threads, autoscaling, max_ongoing_requests
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError

CONFIG_FILE = "config.yaml"


# Ray Serve 2.60's AutoscalingConfig fields, less the deprecated smoothing factors and `policy`
# (a custom policy class); Ray checks the values when the deployment is built.
# metrics_interval_s is marked deprecated there but is still how often the routers push queue
# lengths to the controller (default 10 s): the way to make scaling react within seconds.
_AUTOSCALING_KEYS = (
    "min_replicas",
    "max_replicas",
    "initial_replicas",
    "target_ongoing_requests",
    "upscale_delay_s",
    "downscale_delay_s",
    "downscale_to_zero_delay_s",
    "metrics_interval_s",
    "look_back_period_s",
    "upscaling_factor",
    "downscaling_factor",
    "aggregation_function",
)


@dataclasses.dataclass(frozen=True)
class ReplicaGroup:
    """Replicas of one kind: the backends they run, how many, and what each takes from Ray."""

    backends: tuple[str, ...] | None = None
    count: int = 1
    num_cpus: float = 1.0
    resources: dict[str, float] = dataclasses.field(default_factory=dict)
    threads: int = 0
    autoscaling: dict[str, Any] | None = None  # Ray Serve's autoscaling_config
    max_ongoing_requests: int = 64

    @property
    def kind(self) -> str:
        """A name for the kind: its backends ("default" for xinrt's own choice)."""
        return "+".join(self.backends or ()) or "default"

    def thread_count(self) -> int:
        """Intra-op threads of each replica: the given number, else its whole CPUs."""
        return self.threads or max(1, int(self.num_cpus))

    def replica_estimate(self) -> int:
        """Replicas to count on when spreading requests: the fixed count, or autoscaling's
        minimum (at least one)."""
        if self.autoscaling:
            return max(1, int(self.autoscaling.get("min_replicas", 1)))
        return max(1, self.count)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """How one model is served; every field has a default that works on a CPU."""

    backends: tuple[str, ...] | None = None
    precision: str | dict[str, str] = ""
    threads: int = 0
    max_batch_size: int | None = None  # None: 8 when dim 0 is dynamic, else 0
    max_queue_delay_us: int = 0
    preferred_batch_sizes: tuple[int, ...] = ()
    replicas: int = 0  # 0: one per two CPU cores, at least one
    resources: dict[str, float] = dataclasses.field(default_factory=dict)
    versions: str = "latest"
    num_cpus: float = 1.0
    autoscaling: dict[str, Any] | None = None
    max_ongoing_requests: int = 64
    groups: tuple[ReplicaGroup, ...] = ()  # from a `replicas:` list; replicas = their sum

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

    def replica_groups(self) -> tuple[ReplicaGroup, ...]:
        """The replica kinds under Ray: the `replicas:` list, or one kind from the flat keys
        (`replicas` 0 means one replica)."""
        if self.groups:
            return self.groups
        group = ReplicaGroup(
            backends=self.backends,
            count=max(1, self.replicas),
            num_cpus=self.num_cpus,
            resources=dict(self.resources),
            threads=self.threads,
            autoscaling=self.autoscaling,
            max_ongoing_requests=self.max_ongoing_requests,
        )
        return (group,)


_INT_KEYS = ("threads", "max_batch_size", "max_queue_delay_us", "replicas", "max_ongoing_requests")


def _check_ray_keys(values: dict[str, Any], source: str) -> None:
    """num_cpus, resources and autoscaling: the settings a replica takes from Ray."""
    cpus = values.get("num_cpus", 1.0)
    if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or cpus < 0:
        raise InvalidArgumentError(f"{source}: num_cpus must be a number >= 0, got {cpus!r}")
    resources = values.get("resources", {})
    if not isinstance(resources, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and v >= 0 for k, v in resources.items()
    ):
        raise InvalidArgumentError(
            f"{source}: resources must be a mapping name -> amount >= 0, got {resources!r}"
        )
    scaling = values.get("autoscaling")
    if scaling is not None:
        if not isinstance(scaling, dict):
            raise InvalidArgumentError(f"{source}: autoscaling must be a mapping")
        unknown = sorted(set(scaling) - set(_AUTOSCALING_KEYS))
        if unknown:
            raise InvalidArgumentError(
                f"{source}: unknown autoscaling keys {', '.join(unknown)}; "
                f"known: {', '.join(_AUTOSCALING_KEYS)}"
            )


def _parse_backends(backends: Any, source: str) -> tuple[str, ...]:
    if isinstance(backends, str):
        backends = [b.strip() for b in backends.split(",") if b.strip()]
    if not isinstance(backends, list) or not all(isinstance(b, str) for b in backends):
        raise InvalidArgumentError(f"{source}: backends must be a list of names")
    return tuple(backends)


def _parse_sizes(sizes: Any, source: str) -> tuple[int, ...]:
    if not isinstance(sizes, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
    ):
        raise InvalidArgumentError(
            f"{source}: preferred_batch_sizes must be a list of whole numbers >= 1, got {sizes!r}"
        )
    return tuple(sorted(set(sizes)))


def _parse_groups(entries: list[Any], source: str) -> tuple[ReplicaGroup, ...]:
    """The `replicas:` list: one ReplicaGroup per entry."""
    fields = {f.name for f in dataclasses.fields(ReplicaGroup)}
    groups = []
    for i, entry in enumerate(entries):
        where = f"{source}: replicas[{i}]"
        if not isinstance(entry, dict):
            raise InvalidArgumentError(f"{where}: expected a mapping, got {entry!r}")
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise InvalidArgumentError(
                f"{where}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
            )
        values = dict(entry)
        for key in ("count", "threads", "max_ongoing_requests"):
            if key in values and (not isinstance(values[key], int) or values[key] < 0):
                raise InvalidArgumentError(
                    f"{where}: {key} must be a whole number >= 0, got {values[key]!r}"
                )
        _check_ray_keys(values, where)
        if "backends" in values:
            values["backends"] = _parse_backends(values["backends"], where)
        groups.append(ReplicaGroup(**values))
    if not groups:
        raise InvalidArgumentError(f"{source}: replicas is an empty list")
    kinds = [g.kind for g in groups]
    if len(set(kinds)) != len(kinds):
        raise InvalidArgumentError(
            f"{source}: two replicas entries have the same backends ({', '.join(kinds)}); "
            "merge them (count) or give them different backends"
        )
    return tuple(groups)


def parse_config(data: Any, source: str) -> ModelConfig:
    """A ModelConfig from a decoded YAML mapping; unknown keys and wrong types are errors."""
    if data is None:
        return ModelConfig()
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"{source}: expected a mapping of settings, got {data!r}")
    fields = {f.name for f in dataclasses.fields(ModelConfig)} - {"groups"}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise InvalidArgumentError(
            f"{source}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    values: dict[str, Any] = dict(data)
    if isinstance(values.get("replicas"), list):
        values["groups"] = _parse_groups(values["replicas"], source)
        values["replicas"] = sum(g.count for g in values["groups"])
    for key in _INT_KEYS:
        if key in values and (not isinstance(values[key], int) or values[key] < 0):
            raise InvalidArgumentError(
                f"{source}: {key} must be a whole number >= 0, got {values[key]!r}"
            )
    if "backends" in values:
        values["backends"] = _parse_backends(values["backends"], source)
    if "preferred_batch_sizes" in values:
        values["preferred_batch_sizes"] = _parse_sizes(values["preferred_batch_sizes"], source)
    _check_ray_keys(values, source)
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
