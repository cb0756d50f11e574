"""The ``notify_state`` table (migration 0040): one row per watched source.

Written by the single writer only (``pipeline.apply_changes`` inside its round's transaction,
or on its own for a health change); read by the status report and the admin page.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """What one notification round adds to a source's row."""

    events: int = 0
    rescan: bool = False
    last_event: str | None = None
    last_event_at: str | None = None


def set_health(
    conn: sqlite3.Connection,
    source: str,
    *,
    mechanism: str,
    health: str,
    detail: str | None,
    now: str,
) -> None:
    """Record the watch's health (``since`` moves only when the health itself changes)."""
    conn.execute(
        "INSERT INTO notify_state (source, mechanism, health, detail, since, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (source) DO UPDATE SET mechanism = excluded.mechanism, "
        "since = CASE WHEN health = excluded.health THEN since ELSE excluded.since END, "
        "health = excluded.health, detail = excluded.detail, updated_at = excluded.updated_at",
        (source, mechanism, health, detail, now, now),
    )


def record_round(conn: sqlite3.Connection, source: str, record: RoundRecord, now: str) -> None:
    """Add a round's counts and last event (the row must exist: ``set_health`` first)."""
    conn.execute(
        "UPDATE notify_state SET events = events + ?, rounds = rounds + 1, "
        "rescans = rescans + ?, last_event = coalesce(?, last_event), "
        "last_event_at = coalesce(?, last_event_at), updated_at = ? WHERE source = ?",
        (
            record.events,
            int(record.rescan),
            record.last_event,
            record.last_event_at,
            now,
            source,
        ),
    )


def load(conn: sqlite3.Connection, source: str) -> dict[str, object] | None:
    """A source's row as a dict, or None."""
    row = conn.execute("SELECT * FROM notify_state WHERE source = ?", (source,)).fetchone()
    return None if row is None else dict(row)
