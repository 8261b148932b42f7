"""Prometheus metrics of the registry (prometheus-client, a server-side dependency).

Counted in the process that served the request: requests by route, method and status, request
latency, pushed mutations by outcome, pulled changes, blob bytes in and out. Read from the
database when scraped, so every host reports the same city-wide figures: devices seen in the
last day and week, the outbox depth and parked entries laptops reported at their last sync,
records, attachments and stored content.

Under `fieldapp serve --workers N` each worker writes its counters to files in
PROMETHEUS_MULTIPROC_DIR (set by `fieldapp serve`) and a scrape adds them up. `/metrics` is
not on the public API: it answers only with FIELDAPP_METRICS_TOKEN as a bearer token, or on
its own port (`fieldapp serve --metrics-port`), which should stay on a private interface.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from sync.server.db import reading

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def available() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


class Metrics:
    """The counters one app instance updates, on its own registry (tests run several apps)."""

    def __init__(self, engine: Engine) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.engine = engine
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("fieldapp_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("fieldapp_http_request_duration_seconds",
                                 "Time to answer a request", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.mutations = Counter("fieldapp_push_mutations", "Pushed mutations by outcome",
                                 ["outcome"], registry=r)
        self.pulled = Counter("fieldapp_pull_changes", "Changes sent in pull pages", registry=r)
        self.blob_bytes = Counter("fieldapp_blob_bytes", "Attachment content bytes stored (in) "
                                  "and served (out)", ["direction"], registry=r)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        out = generate_latest(registry) + generate_latest(_database_registry(self.engine))
        return out, CONTENT_TYPE_LATEST


def _database_registry(engine: Engine):  # noqa: ANN202
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine))
    return registry


class DatabaseCollector:
    """City-wide gauges read from the registry database at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self):  # noqa: ANN201
        from prometheus_client.core import GaugeMetricFamily

        from sync.server.models import Attachment, Blob, DeviceStatus, Record

        status, records = DeviceStatus.__table__, Record.__table__
        now = datetime.now(UTC)
        day = (now - timedelta(days=1)).isoformat(timespec="milliseconds")
        week = (now - timedelta(days=7)).isoformat(timespec="milliseconds")
        with reading(self.engine) as conn:
            active = {w: conn.execute(select(func.count()).select_from(status)
                                      .where(status.c.last_seen_at >= since)).scalar_one()
                      for w, since in (("1d", day), ("7d", week))}
            queued, parked = conn.execute(
                select(func.coalesce(func.sum(status.c.queued), 0),
                       func.coalesce(func.sum(status.c.parked), 0))
                .where(status.c.last_seen_at >= week)).one()
            deepest = conn.execute(select(func.coalesce(func.max(status.c.queued), 0))
                                   .where(status.c.last_seen_at >= week)).scalar_one()
            n_records = conn.execute(select(func.count()).select_from(records)
                                     .where(records.c.deleted.is_(False))).scalar_one()
            n_att = conn.execute(select(func.count()).select_from(Attachment.__table__)
                                 .where(Attachment.__table__.c.deleted.is_(False))).scalar_one()
            blobs = Blob.__table__
            n_blobs, blob_bytes = conn.execute(
                select(func.count(), func.coalesce(func.sum(blobs.c.size), 0))).one()
        g = GaugeMetricFamily("fieldapp_active_devices", "Devices that synced in the window",
                              labels=["window"])
        for window, n in active.items():
            g.add_metric([window], n)
        yield g
        yield GaugeMetricFamily("fieldapp_reported_outbox_depth", "Outbox entries laptops "
                                "reported waiting at their last sync (seen in 7 days)",
                                value=queued)
        yield GaugeMetricFamily("fieldapp_reported_outbox_depth_max", "The deepest outbox "
                                "one laptop reported (seen in 7 days)", value=deepest)
        yield GaugeMetricFamily("fieldapp_reported_parked", "Entries refused by the registry "
                                "and waiting for their user, as laptops reported", value=parked)
        yield GaugeMetricFamily("fieldapp_records", "Live records", value=n_records)
        yield GaugeMetricFamily("fieldapp_attachments", "Live attachments", value=n_att)
        yield GaugeMetricFamily("fieldapp_blobs", "Stored attachment contents", value=n_blobs)
        yield GaugeMetricFamily("fieldapp_blob_store_bytes", "Bytes of stored attachment "
                                "content", value=blob_bytes)


def serve_metrics_port(engine: Engine, host: str, port: int) -> None:
    """Expose /metrics on its own port from this process (threads), adding up every worker."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    registry.register(DatabaseCollector(engine))
    start_http_server(port, addr=host, registry=registry)
