"""What the admin pages show: the live system read from the catalog, the queues and playback.

Sections reuse the status report's providers (``catalog/report.py``) so ``archive-analyzer
status`` and the admin pages say the same thing. The failure list joins the prober's verdicts
(``media_info.status`` other than ok) with jobs that failed after every retry (``job_failures``).
``request_reprobe`` asks the writer (through its queue) to probe one catalogued file again; the
web app itself never probes or writes a probe result.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, cast

from archive_analyzer.catalog import file_facts, report
from archive_analyzer.catalog.report import Section
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError
from archive_analyzer.jobs import ledger
from archive_analyzer.sync import state as sync_state
from archive_analyzer.web.deps import WriterRequests

log = logging.getLogger(__name__)

OVERVIEW = (
    report.last_scans,
    report.last_polls,
    report.notifications,
    report.files_by_status,
    report.probe_outcomes,
    report.probe_jobs,
    report.incoming_files,
    report.missing_files,
    report.fixity_state,
    report.fixity_failures,
)
# The setting that turns cloud sync on (named on the admin page when it is off).
SYNC_SETTING = "ARCHIVE_FIRESTORE_PROJECT"


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Cloud sync as the admin page shows it. ``configured`` False: sync is off (no Firestore
    project), and the pending changes only wait for it to be set."""

    configured: bool
    last_kind: str | None = None
    last_status: str | None = None
    last_at: str | None = None
    docs_set: int | None = None
    docs_deleted: int | None = None
    pending: int = 0
    oldest_pending_at: str | None = None
    error: str | None = None


def sync_status(conn: sqlite3.Connection, configured: bool) -> SyncStatus:
    """The last sync run and the changes not yet published (with the oldest one's time)."""
    try:
        run = sync_state.last_run(conn)
        pending = sync_state.backlog(conn)
    except sqlite3.Error as exc:
        return SyncStatus(configured, error=str(exc))
    if run is None:
        return SyncStatus(configured, pending=pending.rows, oldest_pending_at=pending.oldest_at)
    return SyncStatus(
        configured,
        run.kind,
        run.status,
        run.at,
        run.docs_set,
        run.docs_deleted,
        pending.rows,
        pending.oldest_at,
        run.error,
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
        Failure(p.file_id, p.path, p.status, p.error or p.status, p.probed_at)
        for p in file_facts.probe_problems(conn, limit)
    ]
    try:
        jobs = ledger.open_failures(conn, limit)
    except sqlite3.Error:  # before the jobs migration
        jobs = []
    items += [
        Failure(
            _text(j["file"]),
            _text(j["path"]),
            f"job:{j['task']}",
            str(j["error"]),
            _text(j["last_failed_at"]),
            cast(int, j["attempts"]),
        )
        for j in jobs
    ]
    return items


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The accounts: name, role, last login, created."""
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


def request_reprobe(conn: sqlite3.Connection, writer: WriterRequests, file_id: str) -> str:
    """Ask the writer to probe catalogued media file ``file_id`` again; returns its path.
    Raises ``ArchiveError`` when there is no such file (``JobError`` when the queue is down)."""
    found = file_facts.file(conn, file_id)
    if found is None or found.status == "deleted" or not found.is_media:
        raise ArchiveError("unknown file")
    writer.request_reprobe(file_id)
    return found.path
