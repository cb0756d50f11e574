"""The sync's own tables in the catalog: watermark, per-row synced documents, run history."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive_analyzer.catalog.db import transaction
from archive_analyzer.sync.plan import RowPlan, Synced

Key = tuple[str, str]
# Intents live in sync_docs under "<entity>~intent": the path a batch is about to write to.
INTENT = "~intent"


@dataclass(frozen=True, slots=True)
class LastRun:
    """The latest sync run (``at``: when it finished, or started while it runs)."""

    kind: str
    status: str
    at: str | None
    docs_set: int | None
    docs_deleted: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Backlog:
    """Catalog changes past the watermark (not yet in Firestore).

    ``changes``: change-log entries; ``rows``: distinct rows they touch; ``oldest_at``: when the
    oldest was made; ``lag_s``: its age in seconds (0 when there is none).
    """

    changes: int
    rows: int
    oldest_at: str | None
    lag_s: float


def last_run(conn: sqlite3.Connection) -> LastRun | None:
    """The latest sync run, or None before the first one."""
    r = conn.execute(
        "SELECT kind, status, coalesce(finished_at, started_at), docs_set, docs_deleted, "
        "error FROM sync_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if r is None else LastRun(r[0], r[1], r[2], r[3], r[4], r[5])


def backlog(conn: sqlite3.Connection) -> Backlog:
    """What the next sync has to publish (the admin page and the metrics read this)."""
    r = conn.execute(
        "SELECT count(*), count(DISTINCT entity || '/' || row_id), min(changed_at), "
        "coalesce((julianday('now') - julianday(min(changed_at))) * 86400, 0) "
        "FROM sync_changes WHERE seq > coalesce((SELECT watermark FROM sync_state), 0)"
    ).fetchone()
    return Backlog(int(r[0] or 0), int(r[1] or 0), r[2], float(r[3] or 0))


def watermark(conn: sqlite3.Connection) -> int:
    """Every change with ``seq <= watermark`` is in Firestore (0 before the first sync)."""
    row = conn.execute("SELECT watermark FROM sync_state WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def synced(conn: sqlite3.Connection, keys: Iterable[Key]) -> dict[Key, Synced]:
    """What was last written for each of ``keys`` (absent: no document)."""
    by_entity: dict[str, list[str]] = {}
    for entity, row_id in keys:
        by_entity.setdefault(entity, []).append(row_id)
    out: dict[Key, Synced] = {}
    for entity, ids in by_entity.items():
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            for r in conn.execute(
                f"SELECT row_id, path, digest FROM sync_docs "
                f"WHERE entity = ? AND row_id IN ({marks})",
                [entity, *part],
            ):
                out[(entity, str(r[0]))] = Synced(str(r[1]), str(r[2]))
    return out


def intents(conn: sqlite3.Connection, keys: Iterable[Key]) -> dict[Key, str]:
    """Paths written by a batch whose commit was never recorded (see ``record_intents``)."""
    found = synced(conn, [(entity + INTENT, row_id) for entity, row_id in keys])
    return {(entity[: -len(INTENT)], row_id): s.path for (entity, row_id), s in found.items()}


def all_synced_keys(conn: sqlite3.Connection) -> list[Key]:
    """Every row that has a document (or an unrecorded write) according to the last syncs."""
    keys = [(str(r[0]), str(r[1])) for r in conn.execute("SELECT entity, row_id FROM sync_docs")]
    return list(dict.fromkeys((e.removesuffix(INTENT), i) for e, i in keys))


def record_intents(conn: sqlite3.Connection, rows: Sequence[RowPlan], now: str) -> None:
    """Before a batch commits: note the new paths its rows are about to be written to."""
    moving = [r for r in rows if r.new_path is not None]
    if not moving:
        return
    with transaction(conn):
        conn.executemany(
            "INSERT INTO sync_docs (entity, row_id, path, digest, synced_at) "
            "VALUES (?, ?, ?, '', ?) ON CONFLICT (entity, row_id) DO UPDATE SET "
            "path = excluded.path, synced_at = excluded.synced_at",
            [(r.entity + INTENT, r.row_id, r.new_path, now) for r in moving],
        )


def record_committed(
    conn: sqlite3.Connection, rows: Sequence[RowPlan], new_watermark: int | None, now: str
) -> None:
    """After a batch committed: remember its rows' documents and advance the watermark."""
    with transaction(conn):
        for row in rows:
            conn.execute(
                "DELETE FROM sync_docs WHERE entity = ? AND row_id = ?",
                (row.entity + INTENT, row.row_id),
            )
            if row.synced is None:
                conn.execute(
                    "DELETE FROM sync_docs WHERE entity = ? AND row_id = ?",
                    (row.entity, row.row_id),
                )
            else:
                conn.execute(
                    "INSERT INTO sync_docs (entity, row_id, path, digest, synced_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (entity, row_id) DO UPDATE SET "
                    "path = excluded.path, digest = excluded.digest, "
                    "synced_at = excluded.synced_at",
                    (row.entity, row.row_id, row.synced.path, row.synced.digest, now),
                )
        if new_watermark is not None:
            set_watermark(conn, new_watermark, now)


def set_watermark(conn: sqlite3.Connection, value: int, now: str) -> None:
    """Move the watermark forward (never back) and drop the change log up to it."""
    conn.execute(
        "INSERT INTO sync_state (id, watermark, updated_at) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET watermark = max(watermark, excluded.watermark), "
        "updated_at = excluded.updated_at",
        (value, now),
    )
    conn.execute("DELETE FROM sync_changes WHERE seq <= ?", (value,))


def close_abandoned_runs(conn: sqlite3.Connection, now: str) -> None:
    """Mark runs still 'running' as failed (called while holding the sync lock: they died)."""
    with transaction(conn):
        conn.execute(
            "UPDATE sync_runs SET status = 'failed', finished_at = ?, "
            "error = 'interrupted (the process ended during the run)' WHERE status = 'running'",
            (now,),
        )


def start_run(conn: sqlite3.Connection, kind: str, now: str) -> int:
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO sync_runs (kind, status, started_at) VALUES (?, 'running', ?)",
            (kind, now),
        )
    return int(cur.lastrowid or 0)


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    status: str,
    now: str,
    changes: int,
    docs_set: int,
    docs_deleted: int,
    batches: int,
    error: str | None = None,
) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE sync_runs SET status = ?, finished_at = ?, changes = ?, docs_set = ?, "
            "docs_deleted = ?, batches = ?, watermark = (SELECT watermark FROM sync_state), "
            "error = ? WHERE id = ?",
            (status, now, changes, docs_set, docs_deleted, batches, error, run_id),
        )
