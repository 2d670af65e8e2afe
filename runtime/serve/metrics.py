"""Prometheus metrics per model and backend, served at `/metrics` beside KServe's own.

xinrt_inference_requests_total{model,version,backend}        requests answered (any outcome)
xinrt_inference_failures_total{model,version,backend,reason}  reason: invalid | execution
xinrt_inference_executions_total{model,version,backend}      batches run
xinrt_queue_seconds{model,version,backend}                    histogram: queued -> batch start
xinrt_compute_seconds{model,version,backend}                  histogram: one batch's run
xinrt_batch_size{model,version,backend}                       histogram: rows per batch

`backend` above names every backend that got partitions ("cpu+ort"); the busy time is per single
backend, so that rate() of it is that backend's utilisation (in busy devices, summed over the
version's replicas):

xinrt_backend_busy_seconds_total{model,version,backend}       wall seconds its partitions ran
"""

from __future__ import annotations

from kserve.metrics import PREDICT_HIST_TIME
from prometheus_client import Counter, Histogram

from .batching import BatchStats

_LABELS = ("model", "version", "backend")
_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("xinrt_inference_requests", "Inference requests answered", _LABELS)
FAILURES = Counter(
    "xinrt_inference_failures", "Inference requests that failed", (*_LABELS, "reason")
)
EXECUTIONS = Counter("xinrt_inference_executions", "Batches run", _LABELS)
QUEUE = Histogram(
    "xinrt_queue_seconds", "Time from arrival to batch start", _LABELS, buckets=_SECONDS
)
COMPUTE = Histogram("xinrt_compute_seconds", "Time one batch ran", _LABELS, buckets=_SECONDS)
BATCH = Histogram(
    "xinrt_batch_size", "Rows per batch", _LABELS, buckets=(1, 2, 4, 8, 16, 32, 64, 128)
)
BUSY = Counter(
    "xinrt_backend_busy_seconds",
    "Wall seconds one backend's partitions spent running (rate: its utilisation)",
    _LABELS,
)


class ModelMetrics:
    """The metric children of one served model version, bound to its labels."""

    def __init__(self, model: str, version: str, backend: str) -> None:
        labels = {"model": model, "version": version, "backend": backend}
        self._labels = labels
        self.requests = REQUESTS.labels(**labels)
        self._executions = EXECUTIONS.labels(**labels)
        self._queue = QUEUE.labels(**labels)
        self._compute = COMPUTE.labels(**labels)
        self._batch = BATCH.labels(**labels)
        self._predict = PREDICT_HIST_TIME.labels(model_name=model)
        self._busy: dict[str, Counter] = {}

    def backend_busy(self, seconds: dict[str, float]) -> None:
        """Add each backend's busy seconds (since the last call for that session)."""
        for backend, value in seconds.items():
            child = self._busy.get(backend)
            if child is None:
                labels = {**self._labels, "backend": backend}
                child = self._busy[backend] = BUSY.labels(**labels)
            if value > 0:
                child.inc(value)

    def predict_done(self, seconds: float) -> None:
        """KServe's request_predict_seconds for a request served past KServe's wrapper (REST)."""
        self._predict.observe(seconds)

    def failed(self, reason: str) -> None:
        """Count one failed request; reason is 'invalid' (the client's) or 'execution'."""
        FAILURES.labels(**self._labels, reason=reason).inc()

    def batch_done(self, stats: BatchStats) -> None:
        """Record one executed batch (called by the batcher)."""
        self._executions.inc()
        self._batch.observe(stats.size)
        self._compute.observe(stats.compute_s)
        for seconds in stats.queue_s:
            self._queue.observe(seconds)
