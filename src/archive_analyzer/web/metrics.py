"""Prometheus metrics for ``/metrics``: read from the catalog and the app's playback state at
scrape time (a custom collector on a registry of the app's own; nothing global, nothing built
at import time).

Catalog figures: files by status, probe results by status with latency and bytes read
(summaries: count and sum), last poll and scan durations, probe jobs in flight, open job
failures, sync lag and pending rows. Live figures: queue depth, active streams (direct and
HLS), running ffmpeg processes, refused and killed transcodes, the segment cache size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from archive_analyzer.sync import state as sync_state
from archive_analyzer.web.transcode import Playback

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ArchiveCollector(Collector):
    """Collects at scrape time from a fresh catalog connection and the live app state."""

    def __init__(
        self,
        conn_factory: Callable[[], sqlite3.Connection],
        conn_release: Callable[[sqlite3.Connection], None],
        playback: Playback,
        streams: dict[str, int],
        queues: Callable[[], dict[str, Any]],
    ) -> None:
        self._conn_factory = conn_factory
        self._conn_release = conn_release
        self._playback = playback
        self._streams = streams
        self._queues = queues

    def collect(self) -> Iterator[Metric]:
        conn = self._conn_factory()
        try:
            yield from _catalog(conn)
        finally:
            self._conn_release(conn)
        yield from self._live()

    def _live(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("archive_queue_depth", "Jobs waiting per queue", labels=["queue"])
        for name, value in self._queues().items():
            if isinstance(value, int):
                depth.add_metric([name], value)
        yield depth
        streams = GaugeMetricFamily(
            "archive_active_streams", "Responses streaming media now", labels=["kind"]
        )
        for kind, value in sorted(self._streams.items()):
            streams.add_metric([kind], value)
        streams.add_metric(["hls_viewers_30s"], self._playback.active_hls())
        yield streams
        state = self._playback
        yield GaugeMetricFamily(
            "archive_ffmpeg_running", "ffmpeg processes running", value=len(state.processes.running)
        )
        yield GaugeMetricFamily(
            "archive_transcode_slots", "Concurrent segment slots", value=state.slots.limit
        )
        refused = CounterMetricFamily(
            "archive_transcodes_refused", "Segment requests answered busy (503)"
        )
        refused.add_metric([], state.slots.refused)
        yield refused
        runs = CounterMetricFamily(
            "archive_ffmpeg_runs", "ffmpeg runs by outcome", labels=["outcome"]
        )
        runs.add_metric(["finished"], state.processes.finished)
        runs.add_metric(["failed"], state.processes.failed)
        runs.add_metric(["killed"], state.processes.killed)
        yield runs
        yield GaugeMetricFamily(
            "archive_hls_cache_bytes",
            "Bytes in the HLS segment cache",
            value=state.segments.total_bytes,
        )
        yield GaugeMetricFamily(
            "archive_hls_cache_cap_bytes", "HLS segment cache cap", value=state.segments.cap_bytes
        )


def _one(conn: sqlite3.Connection, sql: str) -> Any:
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.Error:  # a table of a later migration is missing: no value
        return None
    return None if row is None else row[0]


def _catalog(conn: sqlite3.Connection) -> Iterator[Metric]:
    files = GaugeMetricFamily("archive_files", "Catalogued files by status", labels=["status"])
    for status, count in conn.execute("SELECT status, count(*) FROM files GROUP BY status"):
        files.add_metric([status], count)
    yield files
    latency = SummaryMetricFamily(
        "archive_probe_duration_seconds", "Probe time per file", labels=["status"]
    )
    read = SummaryMetricFamily(
        "archive_probe_read_bytes", "Bytes read per probe", labels=["status"]
    )
    for status, count, ms, nbytes in conn.execute(
        "SELECT status, count(*), coalesce(sum(probe_ms), 0), coalesce(sum(bytes_read), 0) "
        "FROM media_info GROUP BY status"
    ):
        latency.add_metric([status], count_value=count, sum_value=ms / 1000.0)
        read.add_metric([status], count_value=count, sum_value=nbytes)
    yield latency
    yield read
    gauges = (
        (
            "archive_last_poll_duration_seconds",
            "Duration of the latest poll",
            "SELECT duration_s FROM scans WHERE kind = 'poll' AND duration_s IS NOT NULL "
            "ORDER BY id DESC LIMIT 1",
        ),
        (
            "archive_last_scan_duration_seconds",
            "Duration of the latest full or incremental scan",
            "SELECT duration_s FROM scans WHERE kind != 'poll' AND duration_s IS NOT NULL "
            "ORDER BY id DESC LIMIT 1",
        ),
        (
            "archive_probe_jobs_in_flight",
            "Probe jobs handed to the queue and not yet answered",
            "SELECT count(*) FROM probe_leases",
        ),
        (
            "archive_job_failures_open",
            "Jobs on the failure list",
            "SELECT count(*) FROM job_failures WHERE resolved_at IS NULL",
        ),
    )
    for name, doc, sql in gauges:
        value = _one(conn, sql)
        if value is not None:
            yield GaugeMetricFamily(name, doc, value=float(value))
    yield from _sync(conn)
    yield from _fixity(conn)


def _sync(conn: sqlite3.Connection) -> Iterator[Metric]:
    """The sync backlog, read where the sync keeps it (``sync.state.backlog``)."""
    try:
        pending = sync_state.backlog(conn)
    except sqlite3.Error:  # before the sync migrations: no values
        return
    yield GaugeMetricFamily(
        "archive_sync_pending_rows",
        "Catalog changes not yet in Firestore",
        value=float(pending.changes),
    )
    yield GaugeMetricFamily(
        "archive_sync_lag_seconds",
        "Age of the oldest change not yet in Firestore (0 when none)",
        value=pending.lag_s,
    )


def _fixity(conn: sqlite3.Connection) -> Iterator[Metric]:
    """Content hashes (issue 18): files by hash state, bytes hashed, failures, jobs."""
    from archive_analyzer.catalog import fixity

    try:
        row = fixity.summary(conn)
        leased = int(conn.execute("SELECT count(*) FROM hash_leases").fetchone()[0])
    except sqlite3.Error:  # before the fixity migration
        return
    files = GaugeMetricFamily(
        "archive_fixity_files", "Eligible files by content hash state", labels=["state"]
    )
    files.add_metric(["hashed"], row["hashed"])
    files.add_metric(["unhashed"], row["unhashed"])
    files.add_metric(["in_progress"], row["in_progress"])
    yield files
    yield GaugeMetricFamily(
        "archive_fixity_hashed_bytes", "Bytes of files with a hash", value=row["bytes_hashed"]
    )
    yield GaugeMetricFamily(
        "archive_fixity_failures_open",
        "Fixity failures (same size and mtime, other bytes) not resolved",
        value=row["failures_open"],
    )
    failures = CounterMetricFamily("archive_fixity_failures", "Fixity failures ever recorded")
    failures.add_metric([], row["failures_total"])
    yield failures
    yield GaugeMetricFamily(
        "archive_hash_jobs_in_flight", "Hash jobs handed to the queue", value=leased
    )


def registry(collector: ArchiveCollector) -> CollectorRegistry:
    """A registry of the app's own holding ``collector``."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(collector)
    return reg


def render(reg: CollectorRegistry) -> bytes:
    """The text exposition of ``reg``."""
    return generate_latest(reg)
