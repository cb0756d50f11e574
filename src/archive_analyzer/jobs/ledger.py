"""The writer's bookkeeping of jobs in the catalog: probe leases and the failure list.

A lease is written when a probe job is handed to the queue and removed when its outcome is
ingested. Queues can lose jobs (a worker SIGKILLed mid-job, a Redis restart without
persistence); an expired lease is how the writer notices and dispatches the job again, a bounded
number of times, before the file goes to the failure list. Only the single writer calls the
write functions here, inside its own transactions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive_analyzer.catalog import db


@dataclass(frozen=True, slots=True)
class Lease:
    """A dispatched probe job awaiting its outcome."""

    file: str
    source: str
    path: str
    size: int
    mtime: float
    attempts: int
    dispatched_at: str


def lease(
    conn: sqlite3.Connection,
    *,
    file: str,
    source: str,
    path: str,
    size: int,
    mtime: float,
    now: datetime,
) -> int:
    """Record that a probe job for ``file`` was dispatched; returns its attempt number.

    A re-dispatch of the same file version counts up; a new version (size or mtime changed)
    starts again at 1.
    """
    stamp = db.timestamp(now)
    row = conn.execute(
        "SELECT size, mtime, attempts FROM probe_leases WHERE file = ?", (file,)
    ).fetchone()
    same_version = row is not None and row["size"] == size and row["mtime"] == mtime
    attempts = int(row["attempts"]) + 1 if same_version else 1
    conn.execute(
        "INSERT INTO probe_leases (file, source, path, size, mtime, attempts, dispatched_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (file) DO UPDATE SET "
        "source = excluded.source, path = excluded.path, size = excluded.size, "
        "mtime = excluded.mtime, attempts = excluded.attempts, "
        "dispatched_at = excluded.dispatched_at, updated_at = excluded.updated_at",
        (file, source, path, size, mtime, attempts, stamp, stamp),
    )
    return attempts


def release(conn: sqlite3.Connection, file: str) -> None:
    """Forget the lease of ``file`` (its outcome arrived, or it was dropped)."""
    conn.execute("DELETE FROM probe_leases WHERE file = ?", (file,))


def leases(conn: sqlite3.Connection) -> list[Lease]:
    """Every open lease, oldest dispatch first."""
    rows = conn.execute(
        "SELECT file, source, path, size, mtime, attempts, dispatched_at FROM probe_leases "
        "ORDER BY dispatched_at, file"
    )
    return [Lease(**dict(row)) for row in rows]


def leased_files(conn: sqlite3.Connection) -> set[str]:
    """Ids of files with an open lease."""
    return {row[0] for row in conn.execute("SELECT file FROM probe_leases")}


def expired(
    open_leases: Iterable[Lease],
    *,
    now: datetime,
    lease_s: float,
    queued: Collection[str],
) -> list[Lease]:
    """Leases whose job is lost: not waiting in the queue and dispatched over ``lease_s`` ago.

    ``queued`` holds the file ids of jobs still waiting in the queue or its retry schedule;
    those are slow, not lost. Pure: values in, values out.
    """
    deadline = db.timestamp(now - timedelta(seconds=lease_s))
    return [
        item for item in open_leases if item.file not in queued and item.dispatched_at <= deadline
    ]


def record_failure(
    conn: sqlite3.Connection,
    *,
    key: str,
    task: str,
    error: str,
    attempts: int,
    now: datetime,
    file: str | None = None,
    path: str | None = None,
) -> None:
    """Put a job that failed for good on the failure list (or bump its row) and reopen it."""
    stamp = db.timestamp(now)
    conn.execute(
        "INSERT INTO job_failures (key, task, file, path, error, attempts, occurrences, "
        "first_failed_at, last_failed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET error = excluded.error, attempts = excluded.attempts, "
        "file = excluded.file, path = excluded.path, occurrences = occurrences + 1, "
        "last_failed_at = excluded.last_failed_at, resolved_at = NULL, "
        "updated_at = excluded.updated_at",
        (key, task, file, path, error[:2000], attempts, stamp, stamp, stamp),
    )


def resolve_failure(conn: sqlite3.Connection, key: str, *, now: datetime) -> None:
    """Mark the failure ``key`` resolved (the job later succeeded); no-op when absent."""
    stamp = db.timestamp(now)
    conn.execute(
        "UPDATE job_failures SET resolved_at = ?, updated_at = ? "
        "WHERE key = ? AND resolved_at IS NULL",
        (stamp, stamp, key),
    )


def open_failures(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, object]]:
    """Unresolved failures, newest first (for ``status`` and the admin page)."""
    rows = conn.execute(
        "SELECT task, file, path, error, attempts, occurrences, first_failed_at, last_failed_at, "
        "key FROM job_failures WHERE resolved_at IS NULL ORDER BY last_failed_at DESC LIMIT ?",
        (limit,),
    )
    return [dict(row) for row in rows]


def probe_failure_key(file: str) -> str:
    """The failure-list key of a file's probe job."""
    return f"probe:{file}"
