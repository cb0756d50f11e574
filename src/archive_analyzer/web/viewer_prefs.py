"""Each user's viewing preferences (table ``viewer_prefs``, owned by the web app): whether the
player goes on to the next episode by itself (autoplay, on unless turned off)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now


@dataclass(frozen=True, slots=True)
class ViewerPrefs:
    autoplay: bool = True


def load(conn: sqlite3.Connection, user_id: str) -> ViewerPrefs:
    row = conn.execute("SELECT autoplay FROM viewer_prefs WHERE user_id = ?", (user_id,)).fetchone()
    return ViewerPrefs() if row is None else ViewerPrefs(autoplay=bool(row[0]))


def save(
    conn: sqlite3.Connection, user_id: str, prefs: ViewerPrefs, *, now: Clock = utc_now
) -> ViewerPrefs:
    with transaction(conn):
        conn.execute(
            "INSERT INTO viewer_prefs (user_id, autoplay, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET autoplay = excluded.autoplay, "
            "updated_at = excluded.updated_at",
            (user_id, int(prefs.autoplay), timestamp(now())),
        )
    return prefs
