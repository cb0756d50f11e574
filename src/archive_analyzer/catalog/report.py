"""The status report: sections computed from the catalog, for ``archive-analyzer status`` and
the admin pages.

Each provider takes a read connection and a row limit and returns a ``Section``; ``PROVIDERS``
is the report order (one place, so the CLI and the web say the same thing). Sections read only
tables that exist at the current schema version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A titled list of rows (dicts with the same keys)."""

    key: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


Provider = Callable[[sqlite3.Connection, int], Section]


def _rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params)]


def _query(
    name: str, key: str, title: str, sql: str, *, limited: bool = True, cap: int | None = None
) -> Provider:
    """Provider ``name``: section ``key`` is the rows of one query; ``limited``: the query's
    one parameter is the row limit (at most ``cap``). Named as a ``def`` would be (the admin
    page labels a section that failed with its provider's name)."""

    def provider(conn: sqlite3.Connection, limit: int) -> Section:
        params = (limit if cap is None else min(limit, cap),) if limited else ()
        return Section(key, title, _rows(conn, sql, *params))

    provider.__name__ = provider.__qualname__ = name
    return provider


files_by_status = _query(
    "files_by_status",
    "files_by_status",
    "Files by status",
    "SELECT status, count(*) AS files, coalesce(sum(size), 0) AS bytes "
    "FROM files GROUP BY status ORDER BY status",
    limited=False,
)


files_by_extension = _query(
    "files_by_extension",
    "files_by_extension",
    "Files by extension",
    "SELECT ext, count(*) AS files, coalesce(sum(size), 0) AS bytes FROM files "
    "WHERE status != 'deleted' GROUP BY ext ORDER BY files DESC, ext LIMIT ?",
)


last_scans = _query(
    "last_scans",
    "scans",
    "Last scans",
    "SELECT id, kind, status, started_at, finished_at, round(duration_s, 2) AS duration_s, "
    "files_seen, files_new, files_changed, files_moved, files_missing, errors "
    "FROM scans WHERE kind != 'poll' ORDER BY id DESC LIMIT ?",
)


last_checkpoint = _query(
    "last_checkpoint",
    "checkpoint",
    "Last checkpoint",
    "SELECT scan_id, status, processed_files, processed_bytes, last_path, updated_at "
    "FROM scan_checkpoints ORDER BY scan_id DESC LIMIT 1",
    limited=False,
)


# Jobs that failed after every retry (issue 7); a later success resolves them.
job_failures = _query(
    "job_failures",
    "job_failures",
    "Failed jobs",
    "SELECT task, path, error, attempts, occurrences, last_failed_at FROM job_failures "
    "WHERE resolved_at IS NULL ORDER BY last_failed_at DESC LIMIT ?",
)


# Probe jobs handed to the queue and not yet answered.
probe_jobs = _query(
    "probe_jobs",
    "probe_jobs",
    "Probe jobs in flight",
    "SELECT count(*) AS in_flight, min(dispatched_at) AS oldest_dispatch, "
    "coalesce(max(attempts), 0) AS max_attempts FROM probe_leases",
    limited=False,
)


# The watcher's latest polls: when, how long, what changed, suspect ones with why.
last_polls = _query(
    "last_polls",
    "polls",
    "Last polls",
    "SELECT started_at, status, round(duration_s, 2) AS duration_s, files_seen, files_new, "
    "files_changed, files_moved, files_stable, files_missing, files_deleted, "
    "files_restored, message FROM scans WHERE kind = 'poll' ORDER BY id DESC LIMIT ?",
    cap=5,
)


# Per source: whether change notifications are active, the last event, the last poll.
notifications = _query(
    "notifications",
    "notifications",
    "Change notifications",
    "SELECT n.source, n.mechanism, n.health, n.detail, n.since, n.last_event, "
    "n.last_event_at, n.events, n.rounds, n.rescans, "
    "(SELECT max(s.started_at) FROM scans s WHERE s.source = n.source AND s.kind = 'poll') "
    "AS last_poll_at FROM notify_state n ORDER BY n.source LIMIT ?",
)


# Files still being written: not probed until a writer closed them (change notifications) or their
# size and mtime held across two polls.
incoming_files = _query(
    "incoming_files",
    "incoming",
    "Incoming files",
    "SELECT path, size, updated_at FROM files WHERE status = 'incoming' "
    "ORDER BY updated_at DESC LIMIT ?",
)


# Files gone from the share, not yet (soft) deleted.
missing_files = _query(
    "missing_files",
    "missing",
    "Missing files",
    "SELECT path, size, missing_since FROM files WHERE status = 'missing' "
    "ORDER BY missing_since DESC LIMIT ?",
)


# The latest file history entries (new, changed, moved, missing, probed ...).
recent_events = _query(
    "recent_events",
    "events",
    "Recent events",
    "SELECT e.at, e.kind, f.path FROM file_events e JOIN files f ON f.id = e.file "
    "ORDER BY e.id DESC LIMIT ?",
)


# Files whose probe failed (I/O), newest first, with the error.
probe_failures = _query(
    "probe_failures",
    "probe_failures",
    "Probe failures",
    "SELECT f.path, m.error, m.probed_at FROM files f LEFT JOIN media_info m ON m.id = f.id "
    "WHERE f.probe_state = 'failed' ORDER BY m.probed_at DESC LIMIT ?",
)


# Probe results by status, with the bytes read per file (the prober's cost).
probe_outcomes = _query(
    "probe_outcomes",
    "probe_outcomes",
    "Probe results by status",
    "SELECT status, count(*) AS files, CAST(avg(bytes_read) AS INTEGER) AS avg_bytes_read, "
    "max(bytes_read) AS max_bytes_read, round(avg(probe_ms), 1) AS avg_ms "
    "FROM media_info GROUP BY status ORDER BY files DESC",
    limited=False,
)


# Files the prober found truncated, incomplete, invalid or unsupported, newest first.
probe_problems = _query(
    "probe_problems",
    "probe_problems",
    "Files with problems found by probing",
    "SELECT f.path, m.status, m.error, m.probed_at FROM media_info m JOIN files f "
    "ON f.id = m.id WHERE m.status NOT IN ('ok', 'error') AND f.status != 'deleted' "
    "ORDER BY m.probed_at DESC LIMIT ?",
)


def sync_state(conn: sqlite3.Connection, limit: int) -> Section:
    """The last sync run, pending changes and the lag (age of the oldest unsynced change)."""
    pending = "FROM sync_changes WHERE seq > coalesce((SELECT watermark FROM sync_state), 0)"
    rows = _rows(
        conn,
        "SELECT coalesce(r.kind || ' ' || r.status || ' ' || coalesce(r.finished_at, "
        "r.started_at), 'never') AS last_sync, "
        "r.docs_set AS docs_set, r.docs_deleted AS docs_deleted, "
        f"(SELECT count(DISTINCT entity || '/' || row_id) {pending}) AS pending_rows, "
        "(SELECT CAST(round((julianday('now') - julianday(min(changed_at))) * 86400) AS INTEGER) "
        f"{pending}) AS lag_s, r.error AS error "
        "FROM (SELECT 1) LEFT JOIN (SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1) r ON 1",
    )
    return Section("sync", "Cloud sync", rows)


# Per catalog (brand): series, visible episodes and clips (by their effective brand, the read
# model's); 'unsorted' holds unclassified files.
catalog_contents = _query(
    "catalog_contents",
    "catalog",
    "Catalog (brands, series, episodes, clips)",
    "SELECT c.id AS catalog, c.title, "
    "(SELECT count(*) FROM series s WHERE s.catalog_id = c.id) AS series, "
    "(SELECT count(*) FROM content_view t WHERE t.catalog_id = c.id "
    "AND t.kind = 'episode' AND t.visible) AS episodes, "
    "(SELECT count(*) FROM content_view t WHERE t.catalog_id = c.id "
    "AND t.kind = 'clip' AND t.visible) AS clips "
    "FROM catalogs c ORDER BY c.sort_order, c.id LIMIT ?",
)


# Viewer accounts, watch progress and the search index (web app, migration 0006).
web_summary = _query(
    "web_summary",
    "web",
    "Web app",
    "SELECT (SELECT count(*) FROM users) AS users, "
    "(SELECT count(*) FROM users WHERE role = 'admin') AS admins, "
    "(SELECT count(*) FROM watch_progress) AS progress_rows, "
    "(SELECT count(*) FROM search_docs) AS indexed_contents, "
    "(SELECT count(*) FROM search_dirty) AS index_queue",
    limited=False,
)


# Poster frames made by the web app (issue 9) and what they cost to read.
poster_frames = _query(
    "poster_frames",
    "poster_frames",
    "Poster frames",
    "SELECT count(*) FILTER (WHERE error IS NULL) AS made, "
    "count(*) FILTER (WHERE error IS NOT NULL) AS failed, "
    "CAST(avg(bytes_read) AS INTEGER) AS avg_bytes_read, max(bytes_read) AS max_bytes_read, "
    "round(avg(ms), 1) AS avg_ms FROM thumbnails",
    limited=False,
)


def fixity_state(conn: sqlite3.Connection, limit: int) -> Section:
    """Content hashes (issue 18): files hashed, still to hash, in progress, open failures."""
    from archive_analyzer.catalog import fixity

    row = fixity.summary(conn)
    oldest = conn.execute(
        "SELECT min(h.verified_at) FROM file_hashes h JOIN files f ON f.id = h.file "
        "WHERE f.status = 'active' AND h.xxh128 IS NOT NULL"
    ).fetchone()[0]
    rows = [
        {
            "hashed": row["hashed"],
            "unhashed": row["unhashed"],
            "in_progress": row["in_progress"],
            "bytes_hashed": row["bytes_hashed"],
            "oldest_verification": oldest,
            "failures_open": row["failures_open"],
            "failures_total": row["failures_total"],
        }
    ]
    return Section("fixity", "Fixity (content hashes)", rows)


# Same size and mtime, different bytes: where, since when, which chunk and time range.
fixity_failures = _query(
    "fixity_failures",
    "fixity_failures",
    "Fixity failures (bytes changed, size and mtime not)",
    "SELECT path, first_chunk AS chunk, byte_from, byte_to, time_from, time_to, expected, "
    "actual, detected_at, last_seen_at FROM fixity_failures WHERE resolved_at IS NULL "
    "ORDER BY detected_at DESC LIMIT ?",
)


PROVIDERS: list[Provider] = [
    files_by_status,
    files_by_extension,
    last_scans,
    last_checkpoint,
    probe_jobs,
    job_failures,
    last_polls,
    notifications,
    incoming_files,
    missing_files,
    recent_events,
    probe_failures,
    probe_outcomes,
    probe_problems,
    fixity_state,
    fixity_failures,
    sync_state,
    catalog_contents,
    web_summary,
    poster_frames,
]


def collect(conn: sqlite3.Connection, limit: int = 10) -> list[Section]:
    """Every section, in report order."""
    return [provider(conn, limit) for provider in PROVIDERS]
