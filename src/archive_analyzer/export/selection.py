"""What an export covers: the catalogued hands (and whole files) of contents, as events.

An event is one range of one file: a hand (its parent episode's file from ``start_sec`` to
``end_sec``), or a whole file (an episode or a clip file without hands). A selection is a list
of content ids; :func:`events` expands each in order: a hand is itself, an episode is its
active hands in time order or, without any, its whole file. Each event carries what edit
lists need: the file's path, start timecode and frame rate, and the hand's facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from archive_analyzer.catalog import hands, read
from archive_analyzer.errors import NotFound

# What a content is and plays comes from the catalog's read model (content_view): a hand plays
# its parent's file, and is visible while it and its parent are active.
_VISIBLE = "c.visible"


@dataclass(frozen=True, slots=True)
class Event:
    """One range of one catalogued file."""

    content_id: str
    title: str
    hand_id: str | None  # the hand's sheet id (``external_id`` without ``hand:``); None: whole
    file_id: str
    source: str
    path: str
    name: str
    start: float
    end: float
    frame_rate: float | None
    start_timecode: str | None
    duration_s: float | None = None  # the whole file's
    players: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    winner: str | None = None
    pot_size_bb: float | None = None
    is_all_in: int | None = None
    is_showdown: int | None = None
    board: str | None = None
    highlight_score: int | None = None

    @property
    def is_hand(self) -> bool:
        return self.hand_id is not None

    @property
    def clock(self) -> hands.FileClock:
        return hands.FileClock(None, self.start_timecode, self.frame_rate)


_EVENT_SQL = (
    "SELECT c.id, c.title, c.kind, c.parent_id, c.external_id, c.start_sec, c.end_sec, "
    "c.winner, c.pot_size_bb, c.is_all_in, c.is_showdown, c.board, c.highlight_score, "
    "f.id AS file_id, f.source, f.path, f.name, m.duration_s, m.frame_rate, m.timecode "
    "FROM content_view c JOIN files f ON f.id = c.play_file_id "
    "LEFT JOIN media_info m ON m.id = f.id "
)


def events(conn: sqlite3.Connection, content_ids: Sequence[str]) -> list[Event]:
    """The events of these contents, in order (see the module doc). Unknown, deleted or
    file-less contents are skipped; a content is never expanded twice."""
    out: list[Event] = []
    seen: set[str] = set()
    for content_id in content_ids:
        row = conn.execute(f"{_EVENT_SQL} WHERE c.id = ? AND {_VISIBLE}", (content_id,)).fetchone()
        if row is None:
            continue
        if row["parent_id"] is not None:
            rows = [row]
        else:
            rows = conn.execute(
                f"{_EVENT_SQL} WHERE c.parent_id = ? AND {_VISIBLE} "
                "AND c.start_sec IS NOT NULL ORDER BY c.start_sec, c.title",
                (content_id,),
            ).fetchall() or [row]
        for found in rows:
            if found["id"] not in seen:
                seen.add(found["id"])
                out.append(_event(conn, found))
    return out


def series_contents(conn: sqlite3.Connection, series_id: str) -> list[str]:
    """The top-level contents of a series in episode order; ``NotFound`` for no series."""
    if conn.execute("SELECT 1 FROM series WHERE id = ?", (series_id,)).fetchone() is None:
        raise NotFound(f"no series {series_id}")
    # a top-level content's series is its own column (the read model's rule): the index answers
    rows = conn.execute(
        "SELECT c.id FROM contents t JOIN content_view c ON c.id = t.id "
        "WHERE t.series_id = ? AND t.parent_id IS NULL "
        f"AND {_VISIBLE} ORDER BY c.sort_key, c.title",
        (series_id,),
    )
    return [str(r["id"]) for r in rows]


def content_title(conn: sqlite3.Connection, content_id: str) -> str | None:
    """The title of an active content, or None when there is none with that id."""
    row = conn.execute(
        f"SELECT c.title FROM content_view c WHERE c.id = ? AND {_VISIBLE}", (content_id,)
    )
    found = row.fetchone()
    return str(found["title"]) if found is not None else None


def series_title(conn: sqlite3.Connection, series_id: str) -> str | None:
    row = conn.execute("SELECT title FROM series WHERE id = ?", (series_id,)).fetchone()
    return str(row["title"]) if row is not None else None


def _event(conn: sqlite3.Connection, r: sqlite3.Row) -> Event:
    is_hand = r["parent_id"] is not None and r["start_sec"] is not None
    players, tags = read.named_links(conn, r["id"])
    external = r["external_id"] or ""
    start = float(r["start_sec"]) if is_hand else 0.0
    end = float(r["end_sec"]) if is_hand else float(r["duration_s"] or 0.0)
    return Event(
        content_id=r["id"],
        title=r["title"],
        hand_id=(external.removeprefix(hands.EXTERNAL_PREFIX) or r["id"]) if is_hand else None,
        file_id=r["file_id"],
        source=r["source"],
        path=r["path"],
        name=r["name"],
        start=start,
        end=end,
        frame_rate=r["frame_rate"],
        start_timecode=r["timecode"],
        duration_s=r["duration_s"],
        players=tuple(p.name for p in players if p.role != "winner"),
        tags=tags,
        winner=r["winner"] if is_hand else None,
        pot_size_bb=r["pot_size_bb"] if is_hand else None,
        is_all_in=r["is_all_in"] if is_hand else None,
        is_showdown=r["is_showdown"] if is_hand else None,
        board=r["board"] if is_hand else None,
        highlight_score=r["highlight_score"] if is_hand else None,
    )


@dataclass(frozen=True, slots=True)
class ClipTarget:
    """What cutting a content's clip needs: its file (and version) and its range."""

    content_id: str
    title: str
    file_id: str
    source: str
    path: str
    ext: str
    size: int
    mtime: float
    start: float
    end: float
    clock: hands.FileClock

    @property
    def whole(self) -> bool:
        return self.start <= 0 and (not self.clock.duration_s or self.end >= self.clock.duration_s)


def clip_target(conn: sqlite3.Connection, content_id: str) -> ClipTarget:
    """The file and range of a content: a hand's range of its episode's file, else the whole
    file. ``NotFound`` for an unknown, deleted or file-less content."""
    row = conn.execute(
        "SELECT c.id, c.title, c.parent_id, c.start_sec, c.end_sec, f.id AS file_id, f.source, "
        "f.path, f.ext, f.size, f.mtime, m.duration_s, m.timecode, m.frame_rate "
        "FROM content_view c JOIN files f ON f.id = c.play_file_id "
        "LEFT JOIN media_info m ON m.id = f.id "
        f"WHERE c.id = ? AND {_VISIBLE} AND f.status != 'deleted'",
        (content_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no content with a file: {content_id}")
    clock = hands.FileClock(row["duration_s"], row["timecode"], row["frame_rate"])
    hand = row["parent_id"] is not None and row["start_sec"] is not None
    end = float(row["end_sec"]) if hand else float(row["duration_s"] or 0.0)
    return ClipTarget(
        content_id=row["id"],
        title=row["title"],
        file_id=row["file_id"],
        source=row["source"],
        path=row["path"],
        ext=row["ext"] or "",
        size=int(row["size"]),
        mtime=float(row["mtime"]),
        start=float(row["start_sec"]) if hand else 0.0,
        end=end,
        clock=clock,
    )
