"""Each user's "My list": contents and series kept for later (table ``my_list``, owned by the
web app). The home page shows it as a row, newest addition first."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry: a content or a series (exactly one of the two ids is set)."""

    content_id: str | None
    series_id: str | None
    added_at: str


def _column(kind: str) -> str:
    if kind not in ("content", "series"):
        raise ValueError(f"not a kind of list entry: {kind}")
    return f"{kind}_id"


def put(
    conn: sqlite3.Connection,
    user_id: str,
    kind: str,
    item_id: str,
    on: bool,
    *,
    now: Clock = utc_now,
) -> None:
    """Add (``on``) or remove a content or series (``kind``) to or from the user's list.
    Adding twice keeps the first date; ids that are not in the catalog are ignored."""
    column = _column(kind)
    table = "contents" if kind == "content" else "series"
    with transaction(conn):
        if on:
            conn.execute(
                f"INSERT OR IGNORE INTO my_list (user_id, {column}, added_at) "
                f"SELECT ?, id, ? FROM {table} WHERE id = ?",
                (user_id, timestamp(now()), item_id),
            )
        else:
            conn.execute(
                f"DELETE FROM my_list WHERE user_id = ? AND {column} = ?", (user_id, item_id)
            )


def entries(conn: sqlite3.Connection, user_id: str, limit: int = 100) -> list[Entry]:
    """The user's list, newest first."""
    return [
        Entry(r[0], r[1], r[2])
        for r in conn.execute(
            "SELECT content_id, series_id, added_at FROM my_list WHERE user_id = ? "
            "ORDER BY added_at DESC, rowid DESC LIMIT ?",
            (user_id, limit),
        )
    ]


def holding(conn: sqlite3.Connection, user_id: str, kind: str, ids: Iterable[str]) -> set[str]:
    """Which of these content (or series) ids are on the user's list."""
    column = _column(kind)
    return {
        str(r[0])
        for r in conn.execute(
            f"SELECT {column} FROM my_list WHERE user_id = ? AND {column} IN "
            "(SELECT value FROM json_each(?))",
            (user_id, json.dumps(list(dict.fromkeys(ids)))),
        )
    }
