"""Watch progress per user and content (the media time of the played file, in seconds)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now

# A content counts as watched once playback is this close to its end.
FINISHED_FRACTION = 0.95


@dataclass(frozen=True, slots=True)
class Progress:
    content_id: str
    position_s: float
    duration_s: float | None
    finished: bool
    updated_at: str


def is_finished(position_s: float, start_s: float, end_s: float | None) -> bool:
    """Whether ``position_s`` is at the end of the ``start_s``..``end_s`` range (pure)."""
    if end_s is None or end_s <= start_s:
        return False
    return (position_s - start_s) >= FINISHED_FRACTION * (end_s - start_s)


def save(
    conn: sqlite3.Connection,
    user_id: str,
    content_id: str,
    position_s: float,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    now: Clock = utc_now,
) -> Progress:
    """Record where ``user_id`` is in ``content_id``; finished when near ``end_s``."""
    finished = is_finished(position_s, start_s, end_s)
    stamp = timestamp(now())
    duration = None if end_s is None else end_s - start_s
    with transaction(conn):
        conn.execute(
            "INSERT INTO watch_progress (user_id, content_id, position_s, duration_s, finished, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, content_id) DO UPDATE "
            "SET position_s = excluded.position_s, duration_s = excluded.duration_s, "
            "finished = excluded.finished, updated_at = excluded.updated_at",
            (user_id, content_id, position_s, duration, int(finished), stamp),
        )
    return Progress(content_id, position_s, duration, finished, stamp)


def of_user(conn: sqlite3.Connection, user_id: str, limit: int = 100) -> list[Progress]:
    """The user's progress records, newest first."""
    rows = conn.execute(
        "SELECT content_id, position_s, duration_s, finished, updated_at FROM watch_progress "
        "WHERE user_id = ? ORDER BY updated_at DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    return [Progress(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]
