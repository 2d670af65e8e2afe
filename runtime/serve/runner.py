"""One version of a served model: its sessions (replicas), its batcher and its metrics."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ..options import SessionOptions
from ..session import InferenceSession, NodeArg
from .batching import Batcher
from .config import ModelConfig, ReplicaGroup
from .metrics import ModelMetrics
from .tensors import v2_datatype, v2_shape

DEFAULT_MAX_BATCH = 8
_LOG = logging.getLogger("xinrt.serve")


def _dynamic_dim0(args: list[NodeArg]) -> bool:
    return all(a.shape and not (isinstance(a.shape[0], int) and a.shape[0] >= 0) for a in args)


class VersionRunner:
    """Sessions of one model file; `start()` (in the event loop) opens the batcher."""

    def __init__(
        self, name: str, version: str, path: Path, config: ModelConfig, workers: int = 1
    ) -> None:
        self.name, self.version, self.path, self.config = name, version, path, config
        self.label = f"model {name!r} version {version}"
        self.sessions = self._open_sessions(workers)
        first = self.sessions[0]
        self.inputs: list[NodeArg] = first.get_inputs()
        self.outputs: list[NodeArg] = first.get_outputs()
        self.output_names = [o.name for o in self.outputs]
        used = {p.backend for s in self.sessions for p in s.placement.partitions}
        self.backend = "+".join(sorted(used)) or "none"
        batchable = _dynamic_dim0(self.inputs) and _dynamic_dim0(self.outputs)
        default = DEFAULT_MAX_BATCH if batchable else 0
        self.max_batch: int = default if config.max_batch_size is None else config.max_batch_size
        if self.max_batch > 1 and not batchable:
            raise InvalidArgumentError(
                f"{self.label}: max_batch_size {self.max_batch} needs a dynamic dim 0 on every "
                "input and output; set max_batch_size: 0 or export the model with a batch dim"
            )
        self.preferred = config.preferred_batch_sizes
        too_big = [n for n in self.preferred if n > max(self.max_batch, 1)]
        if too_big:
            raise InvalidArgumentError(
                f"{self.label}: preferred_batch_sizes {list(too_big)} exceed max_batch_size "
                f"{self.max_batch}; raise max_batch_size or drop those sizes"
            )
        self.metrics = ModelMetrics(name, version, self.backend)
        # each backend's busy seconds, per session, as last counted (one thread runs a session)
        self._busy_seen = [s.backend_busy_seconds() for s in self.sessions]
        self.batcher: Batcher | None = None

    def _open_sessions(self, workers: int) -> list[InferenceSession]:
        """The replicas' sessions: `replicas` alike, or each `replicas:` entry's count with its
        own backends and threads (in one process, the first free session takes the next batch,
        whatever chip it runs on)."""
        config = self.config
        if config.resources or config.autoscaling:
            _LOG.warning("%s: resources and autoscaling apply under --ray only", self.label)
        groups = config.groups or (
            ReplicaGroup(config.backends, config.replica_count(workers), 1.0, {}, 0),
        )
        sessions = []
        for group in groups:
            threads = group.threads or config.thread_count(workers)
            options = SessionOptions(
                intra_op_num_threads=threads, precision=config.precision, track_backend_busy=True
            )
            backends = list(group.backends or []) or None
            sessions += [
                InferenceSession(str(self.path), options, backends=backends)
                for _ in range(group.count)
            ]
        if not sessions:
            raise InvalidArgumentError(f"{self.label}: every replicas entry has count 0")
        return sessions

    def start(self) -> None:
        """Open the batcher; call from the event loop that will serve requests."""
        self.batcher = Batcher(
            self._run,
            len(self.sessions),
            max_batch=self.max_batch,
            max_delay_s=self.config.max_queue_delay_us / 1e6,
            on_batch=self.metrics.batch_done,
            preferred=self.preferred,
            name=f"xinrt-{self.name}",
        )

    async def stop(self) -> None:
        """Finish queued requests, then end the replicas' threads."""
        if self.batcher is not None:
            await self.batcher.close()

    def _run(self, replica: int, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        session = self.sessions[replica]
        try:
            outputs = session.run(None, feeds)
        finally:  # a failed batch kept its backends busy too
            now = session.backend_busy_seconds()
            seen = self._busy_seen[replica]
            self.metrics.backend_busy({b: s - seen.get(b, 0.0) for b, s in now.items()})
            self._busy_seen[replica] = now
        return dict(zip(self.output_names, outputs))

    def triton_config(self) -> dict[str, Any]:
        """The version's settings in Triton's model-config JSON form (`/config`)."""
        batched = self.max_batch > 0

        def dims(arg: NodeArg) -> list[int]:
            shape = v2_shape(arg)
            return shape[1:] if batched else shape

        def entry(arg: NodeArg) -> dict[str, Any]:
            return {"name": arg.name, "data_type": f"TYPE_{v2_datatype(arg)}", "dims": dims(arg)}

        config: dict[str, Any] = {
            "name": self.name,
            "platform": "xinrt_onnx",
            "backend": "xinrt",
            "max_batch_size": self.max_batch,
            "input": [entry(a) for a in self.inputs],
            "output": [entry(a) for a in self.outputs],
            "instance_group": [{"count": len(self.sessions), "kind": "KIND_CPU"}],
            "parameters": {
                "backends": {"string_value": self.backend},
                "threads": {
                    "string_value": str(self.sessions[0].get_session_options().intra_op_num_threads)
                },
            },
        }
        if batched:
            config["dynamic_batching"] = {
                "max_queue_delay_microseconds": self.config.max_queue_delay_us
            }
            if self.preferred:
                config["dynamic_batching"]["preferred_batch_size"] = list(self.preferred)
        return config
