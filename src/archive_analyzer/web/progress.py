"""Watch progress per user and content (the media time of the played file, in seconds).

A position past ``watched_fraction`` of the content's range (``settings.watched_fraction``,
0.9 by default) finishes it: the progress row is marked finished (nothing to resume) and the
content becomes watched for that user (``web/watching.py``). A position within the first
``STARTED_S`` seconds (or 5 % of a short content) is not "started": opening a video and leaving
at once does not put it in "continue watching".
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now
from archive_analyzer.web import watching

# Playback must get this far into a content before it counts as started.
STARTED_S = 10.0
STARTED_FRACTION = 0.05


@dataclass(frozen=True, slots=True)
class Progress:
    content_id: str
    position_s: float
    duration_s: float | None
    finished: bool
    updated_at: str
    watched: bool = False


def is_finished(position_s: float, start_s: float, end_s: float | None, fraction: float) -> bool:
    """Whether ``position_s`` is past ``fraction`` of the ``start_s``..``end_s`` range (pure)."""
    if end_s is None or end_s <= start_s:
        return False
    return (position_s - start_s) >= fraction * (end_s - start_s)


def is_started(position_s: float, start_s: float, end_s: float | None) -> bool:
    """Whether playback got far enough into the range to resume it later (pure)."""
    done = position_s - start_s
    if end_s is not None and end_s > start_s:
        return done >= min(STARTED_S, STARTED_FRACTION * (end_s - start_s))
    return done >= STARTED_S


def save(
    conn: sqlite3.Connection,
    user_id: str,
    content_id: str,
    position_s: float,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    watched_fraction: float = 0.9,
    now: Clock = utc_now,
) -> Progress:
    """Record where ``user_id`` is in ``content_id``; finished (and watched) past
    ``watched_fraction`` of the range. A position before the range is started forgets the
    progress (played from the start again: nothing to resume)."""
    finished = is_finished(position_s, start_s, end_s, watched_fraction)
    stamp = timestamp(now())
    duration = None if end_s is None else end_s - start_s
    with transaction(conn):
        if not finished and not is_started(position_s, start_s, end_s):
            conn.execute(
                "DELETE FROM watch_progress WHERE user_id = ? AND content_id = ?",
                (user_id, content_id),
            )
            watched = watching.is_watched(conn, user_id, content_id)
            return Progress(content_id, position_s, duration, False, stamp, watched)
        conn.execute(
            "INSERT INTO watch_progress (user_id, content_id, position_s, duration_s, finished, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, content_id) DO UPDATE "
            "SET position_s = excluded.position_s, duration_s = excluded.duration_s, "
            "finished = excluded.finished, updated_at = excluded.updated_at",
            (user_id, content_id, position_s, duration, int(finished), stamp),
        )
        if finished:
            watching.record(conn, user_id, content_id, "played", stamp)
        watched = finished or watching.is_watched(conn, user_id, content_id)
    return Progress(content_id, position_s, duration, finished, stamp, watched)


def of_user(conn: sqlite3.Connection, user_id: str, limit: int = 100) -> list[Progress]:
    """The user's progress records, newest first."""
    rows = conn.execute(
        "SELECT w.content_id, w.position_s, w.duration_s, w.finished, w.updated_at, "
        "x.content_id IS NOT NULL FROM watch_progress w LEFT JOIN watched x "
        "ON x.user_id = w.user_id AND x.content_id = w.content_id "
        "WHERE w.user_id = ? ORDER BY w.updated_at DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    return [Progress(r[0], r[1], r[2], bool(r[3]), r[4], bool(r[5])) for r in rows]
