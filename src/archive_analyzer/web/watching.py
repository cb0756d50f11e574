"""Each user's watch state: which contents are watched, which are in progress, how many
episodes of a series are left (tables ``watched`` and ``watch_progress``, owned by the web app).

A content is watched when playback passed ``settings.watched_fraction`` of it (``origin``
'played', recorded by ``progress.save``) or when the user marked it (``'marked'``). Marking a
content watched forgets its progress (it leaves "continue watching"); marking it unwatched
forgets both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now

_IDS = "(SELECT value FROM json_each(?))"


@dataclass(frozen=True, slots=True)
class State:
    """One content's state for one user: watched, and where to resume (None: not started)."""

    watched: bool = False
    position_s: float | None = None


@dataclass(frozen=True, slots=True)
class SeriesProgress:
    """How far a user is through a series: its visible top-level contents and those watched."""

    total: int
    watched: int
    clips: bool = False  # a series of clips cut as files (no episode): counts its clips

    @property
    def noun(self) -> str:
        """The message key of what is counted (``n_episodes`` / ``n_clips``)."""
        return "n_clips" if self.clips else "n_episodes"

    @property
    def left(self) -> int:
        return max(0, self.total - self.watched)


def record(
    conn: sqlite3.Connection, user_id: str, content_id: str, origin: str, stamp: str
) -> None:
    """Mark watched inside the caller's transaction (a 'marked' origin is kept over 'played')."""
    conn.execute(
        "INSERT INTO watched (user_id, content_id, origin, watched_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user_id, content_id) DO UPDATE SET watched_at = excluded.watched_at",
        (user_id, content_id, origin, stamp),
    )


def is_watched(conn: sqlite3.Connection, user_id: str, content_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM watched WHERE user_id = ? AND content_id = ?", (user_id, content_id)
    ).fetchone()
    return row is not None


def mark(
    conn: sqlite3.Connection,
    user_id: str,
    content_ids: Iterable[str],
    watched: bool,
    *,
    now: Clock = utc_now,
) -> None:
    """Mark contents watched (their progress is dropped) or unwatched (watched and progress
    dropped), in one transaction."""
    ids = json.dumps(list(dict.fromkeys(content_ids)))
    stamp = timestamp(now())
    with transaction(conn):
        conn.execute(
            f"DELETE FROM watch_progress WHERE user_id = ? AND content_id IN {_IDS}",
            (user_id, ids),
        )
        if watched:
            conn.execute(
                "INSERT INTO watched (user_id, content_id, origin, watched_at) "
                f"SELECT ?, c.id, 'marked', ? FROM contents c WHERE c.id IN {_IDS} "
                "ON CONFLICT (user_id, content_id) DO UPDATE SET origin = 'marked', "
                "watched_at = excluded.watched_at",
                (user_id, stamp, ids),
            )
        else:
            conn.execute(
                f"DELETE FROM watched WHERE user_id = ? AND content_id IN {_IDS}", (user_id, ids)
            )


def states(conn: sqlite3.Connection, user_id: str, content_ids: Iterable[str]) -> dict[str, State]:
    """The state of each given content that is watched or in progress (others: absent)."""
    ids = json.dumps(list(dict.fromkeys(content_ids)))
    watched = {
        str(r[0])
        for r in conn.execute(
            f"SELECT content_id FROM watched WHERE user_id = ? AND content_id IN {_IDS}",
            (user_id, ids),
        )
    }
    positions = {
        str(r[0]): float(r[1])
        for r in conn.execute(
            "SELECT content_id, position_s FROM watch_progress WHERE user_id = ? "
            f"AND finished = 0 AND content_id IN {_IDS}",
            (user_id, ids),
        )
    }
    return {cid: State(cid in watched, positions.get(cid)) for cid in watched | set(positions)}


def in_progress(conn: sqlite3.Connection, user_id: str, limit: int) -> list[str]:
    """Content ids the user started and did not finish, most recently played first (the
    caller keeps the visible ones)."""
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT content_id FROM watch_progress WHERE user_id = ? AND finished = 0 "
            "ORDER BY updated_at DESC LIMIT ?",
            (user_id, limit),
        )
    ]


def series_progress(
    conn: sqlite3.Connection, user_id: str, series_ids: Iterable[str]
) -> dict[str, SeriesProgress]:
    """For each series, its visible episodes and how many of them the user watched (a series
    of clips cut as files, with no episode: its clips)."""
    rows = conn.execute(
        "SELECT c.series_id, count(*) FILTER (WHERE c.kind = 'episode'), "
        "count(w.content_id) FILTER (WHERE c.kind = 'episode'), count(*), count(w.content_id) "
        "FROM contents c LEFT JOIN watched w ON w.content_id = c.id AND w.user_id = ? "
        f"WHERE c.series_id IN {_IDS} AND c.parent_id IS NULL AND c.status = 'active' "
        "GROUP BY c.series_id",
        (user_id, json.dumps(list(dict.fromkeys(series_ids)))),
    )
    return {
        str(r[0]): (
            SeriesProgress(int(r[1]), int(r[2]))
            if r[1]
            else SeriesProgress(int(r[3]), int(r[4]), clips=True)
        )
        for r in rows
    }


def last_played(
    conn: sqlite3.Connection, user_id: str, content_ids: Iterable[str]
) -> dict[str, str]:
    """When the user last played (or finished) each content, for sorting by date played."""
    ids = json.dumps(list(dict.fromkeys(content_ids)))
    out: dict[str, str] = {}
    for cid, at in conn.execute(
        f"SELECT content_id, updated_at FROM watch_progress WHERE user_id = ? AND content_id IN "
        f"{_IDS} UNION ALL SELECT content_id, watched_at FROM watched WHERE user_id = ? "
        f"AND content_id IN {_IDS}",
        (user_id, ids, user_id, ids),
    ):
        if str(at) > out.get(str(cid), ""):
            out[str(cid)] = str(at)
    return out


def series_last_played(
    conn: sqlite3.Connection, user_id: str, series_ids: Iterable[str]
) -> dict[str, str]:
    """When the user last played (or finished) anything of each series (hands included)."""
    rows = conn.execute(
        "SELECT coalesce(c.series_id, p.series_id), max(t.at) FROM ("
        "SELECT content_id, updated_at AS at FROM watch_progress WHERE user_id = ? "
        "UNION ALL SELECT content_id, watched_at FROM watched WHERE user_id = ?) t "
        "JOIN contents c ON c.id = t.content_id LEFT JOIN contents p ON p.id = c.parent_id "
        f"WHERE coalesce(c.series_id, p.series_id) IN {_IDS} GROUP BY 1",
        (user_id, user_id, json.dumps(list(dict.fromkeys(series_ids)))),
    )
    return {str(r[0]): str(r[1]) for r in rows}
