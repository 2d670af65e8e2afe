"""Prometheus metrics under `xinrt serve --ray`: every replica process has its own counters, so
each replica sends its xinrt and KServe metrics to the root application once a second, and the
root's `GET /metrics` answers them all, each sample labelled `replica="<deployment>#<id>"`
(sum them without that label for the model's totals). A replica that stops sending (its node
died, it was scaled down) is dropped after STALE_S.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, exposition
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

INTERVAL_S = 1.0
STALE_S = 15.0
PREFIXES = ("xinrt_", "request_")  # xinrt's metrics and KServe's request_*_seconds
_LOG = logging.getLogger("xinrt.serve")


# The Ray Serve application at "/" that gathers every replica's metrics (ray_main deploys it).
ROOT_APP = "xinrt-root"


async def report_metrics(interval_s: float = INTERVAL_S) -> None:
    """Send this replica's metrics to the root application every `interval_s`, for ever (run
    as a task in the replica; until the root is deployed, the sends fail and are retried)."""
    from prometheus_client import REGISTRY, generate_latest
    from ray import serve

    context = serve.get_replica_context()
    replica = f"{context.deployment}#{context.replica_id.unique_id}"
    root = None
    while True:
        await asyncio.sleep(interval_s)
        try:
            root = root or serve.get_app_handle(ROOT_APP)
            await root.report.remote(replica, generate_latest(REGISTRY).decode())
        except Exception as exc:  # the root is not deployed yet, or is going away
            _LOG.debug("metrics report from %s failed: %s", replica, exc)
            root = None


class Reports:
    """The latest metrics text of every replica, merged on demand."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[float, str]] = {}

    def put(self, replica: str, text: str) -> None:
        self._texts[replica] = (time.monotonic(), text)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The merged metrics in Prometheus' text format, and its content type."""
        now = time.monotonic()
        fresh = {r: text for r, (at, text) in self._texts.items() if now - at <= STALE_S}
        self._texts = {r: v for r, v in self._texts.items() if r in fresh}
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Merged(fresh))  # type: ignore[arg-type]
        encoder, content_type = exposition.choose_encoder(accept)
        return encoder(registry), content_type


class _Merged:
    """A collector of every replica's families, each sample labelled with its replica."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for replica, text in sorted(self.texts.items()):
            for family in text_string_to_metric_families(text):
                if not family.name.startswith(PREFIXES):
                    continue
                into = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                into.samples += [
                    Sample(s.name, {**s.labels, "replica": replica}, s.value, s.timestamp)
                    for s in family.samples
                ]
        yield from merged.values()
