"""What the admin pages show: the live system read from the catalog, the queues and playback.

Sections reuse the status report's providers (``catalog/report.py``) so ``archive-analyzer
status`` and the admin pages say the same thing. The failure list joins the prober's verdicts
(``media_info.status`` other than ok) with jobs that failed after every retry (``job_failures``).
``reprobe`` probes one catalogued file again through the probe engine and stores the result.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from archive_analyzer.catalog import db, report
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError
from archive_analyzer.status import Section

log = logging.getLogger(__name__)

OVERVIEW = (
    report.last_scans,
    report.last_polls,
    report.files_by_status,
    report.probe_outcomes,
    report.probe_jobs,
    report.incoming_files,
    report.missing_files,
    report.fixity_state,
    report.fixity_failures,
    report.sync_state,
)


def sections(conn: sqlite3.Connection, limit: int = 10) -> list[Section]:
    """The overview sections; one whose tables do not exist yet shows the reason instead."""
    found: list[Section] = []
    for provider in OVERVIEW:
        try:
            found.append(provider(conn, limit))
        except sqlite3.Error as exc:
            found.append(Section(provider.__name__, provider.__name__, [{"error": str(exc)}]))
    return found


@dataclass(frozen=True, slots=True)
class Failure:
    """One entry of the failure list."""

    file_id: str | None
    path: str | None
    kind: str  # the probe verdict (truncated, invalid, error ...) or the failed job's task
    reason: str
    at: str | None
    attempts: int | None = None


def failures(conn: sqlite3.Connection, limit: int = 200) -> list[Failure]:
    """Files the prober could not read as healthy media, then jobs that failed for good."""
    items = [
        Failure(r[0], r[1], r[2], r[3] or r[2], r[4])
        for r in conn.execute(
            "SELECT f.id, f.path, m.status, m.error, m.probed_at FROM media_info m "
            "JOIN files f ON f.id = m.id WHERE m.status != 'ok' AND f.status != 'deleted' "
            "AND f.is_media = 1 ORDER BY m.probed_at DESC LIMIT ?",
            (limit,),
        )
    ]
    try:
        rows = conn.execute(
            "SELECT file, path, task, error, last_failed_at, attempts FROM job_failures "
            "WHERE resolved_at IS NULL ORDER BY last_failed_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
    except sqlite3.Error:  # before the jobs migration
        rows = []
    items += [Failure(r[0], r[1], f"job:{r[2]}", r[3], r[4], r[5]) for r in rows]
    return items


def users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT username, role, last_login_at, created_at FROM users ORDER BY username"
        )
    ]


def queue_depths(settings: Settings) -> dict[str, Any]:
    """Jobs waiting per queue, or ``{"error": ...}`` when the queue backend cannot be read.

    The embedded SQLite queue is read only when it exists (never created from here).
    """
    from archive_analyzer.jobs import queue

    if settings.redis_url is None and not queue.queue_db_path(settings).exists():
        return {"backend": "sqlite", "writer": 0, "probe": 0, "results": 0, "note": "no queue yet"}
    try:
        queues = queue.build_queues(settings)
        return {
            "backend": queues.storage.kind,
            "writer": int(queues.writer.pending_count()),
            "probe": int(queues.probe.pending_count()),
            "results": queues.results.size(),
        }
    except Exception as exc:  # redis / huey errors of any kind: shown, never fatal
        log.warning("queue depth unavailable: %s", exc)
        return {"error": f"queue unavailable: {type(exc).__name__}"}


@dataclass(frozen=True, slots=True)
class Reprobed:
    path: str
    status: str
    error: str | None
    stored: bool


def reprobe(conn: sqlite3.Connection, settings: Settings, file_id: str, now: db.Clock) -> Reprobed:
    """Probe catalogued file ``file_id`` again and store the result (resolving its job failure
    when it now probes). Raises ``ArchiveError`` when the file is unknown or unreachable."""
    from archive_analyzer import pipeline
    from archive_analyzer.catalog import files as repo
    from archive_analyzer.jobs import ledger
    from archive_analyzer.probe.result import ProbeStatus

    row = repo.get(conn, file_id)
    if row is None or settings.source is None:
        raise ArchiveError("unknown file or no source configured")
    job = pipeline.ProbeJob(row.id, settings.source, row.path, row.size, row.mtime)
    result = pipeline.run_probe(job, settings)
    with db.transaction(conn):
        stored = pipeline.ingest(conn, job, result, now=now)
        if stored and result.status is not ProbeStatus.ERROR:
            with contextlib.suppress(sqlite3.Error):  # before the jobs migration
                ledger.resolve_failure(conn, ledger.probe_failure_key(file_id), now=now())
    return Reprobed(row.path, result.status.value, result.error, stored)
