"""Helpers for catalog model tests: a fake clock and file / media_info rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from archive_analyzer.catalog import db

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# The keys issue 5 promises in every `classify --json` record (other tools parse them).
CLASSIFY_KEYS = frozenset(
    {
        "path",
        "catalog",
        "series",
        "series_title",
        "title",
        "year",
        "season",
        "episode",
        "day",
        "part",
        "event_number",
        "location",
        "players",
        "kind",
        "duplicate",
    }
)


class FakeClock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def add_file(
    conn: sqlite3.Connection,
    path: str,
    *,
    is_media: int = 1,
    source: str = "nas",
    duration: float | None = None,
) -> str:
    """Insert a files row (and a media_info row when ``duration`` is given); returns its id."""
    fid = db.new_id()
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    stamp = db.timestamp(T0)
    conn.execute(
        "INSERT INTO files (id, source, path, name, ext, size, mtime, is_media, first_seen, "
        "last_seen, updated_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?, ?)",
        (fid, source, path, name, ext, is_media, stamp, stamp, stamp),
    )
    if duration is not None:
        conn.execute(
            "INSERT INTO media_info (id, status, duration_s, strategy, probed_at, updated_at) "
            "VALUES (?, 'ok', ?, 'smart', ?, ?)",
            (fid, duration, stamp, stamp),
        )
    return fid
