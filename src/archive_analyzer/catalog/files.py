"""The file repository: rows of ``files`` and their history in ``file_events``.

Every write here sets ``updated_at`` on the rows it touches and records one event per change, so
the sync (which follows ``updated_at``) and the status report see every change. Callers group
calls with ``db.transaction(conn)``; nothing here commits on its own. Ids come from
``db.new_id()`` at first sight and never depend on the path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from archive_analyzer import paths
from archive_analyzer.catalog import db
from archive_analyzer.sources.base import FileInfo

MEDIA_EXTENSIONS = frozenset(
    {
        "mp4",
        "mov",
        "mxf",
        "mkv",
        "webm",
        "avi",
        "ts",
        "m2ts",
        "mts",
        "mpg",
        "mpeg",
        "vob",
        "wmv",
        "asf",
        "m4v",
    }
)

# Names an upload or a copy tool gives a file while it is still being written.
_TEMP_SUFFIXES = (".part", ".partial", ".filepart", ".crdownload", ".tmp", ".temp", ".!sync")

# Statuses in which a file counts as present on the share.
PRESENT = ("active", "incoming")

_COLUMNS = (
    "id, source, path, size, mtime, file_id, status, is_media, probe_state, missing_since, "
    "fingerprint"
)


def is_media(path: str) -> bool:
    """True when the extension is one of the video containers the prober reads."""
    return paths.extension(path) in MEDIA_EXTENSIONS


def is_temporary(path: str) -> bool:
    """True for names of files still being written (``x.mp4.part``, ``~$x``, ``.tmp`` ...)."""
    name = paths.name_of(path).lower()
    return name.endswith(_TEMP_SUFFIXES) or name.startswith(("~$", ".~"))


@dataclass(frozen=True, slots=True)
class FileRow:
    """The catalog's view of one file, as the scanner and the watcher need it."""

    id: str
    source: str
    path: str
    size: int
    mtime: float
    file_id: str | None
    status: str
    is_media: int  # 1 for media, 0 otherwise (as stored)
    probe_state: str
    missing_since: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One history row to record: which file, what happened, a JSON-able detail."""

    file: str
    kind: str
    detail: dict[str, Any] | None = None


def _row(record: sqlite3.Row | tuple[Any, ...]) -> FileRow:
    return FileRow(
        id=record[0],
        source=record[1],
        path=record[2],
        size=int(record[3]),
        mtime=float(record[4]),
        file_id=record[5],
        status=record[6],
        is_media=int(record[7]),
        probe_state=record[8],
        missing_since=record[9],
        fingerprint=record[10],
    )


def load(conn: sqlite3.Connection, source: str) -> dict[str, FileRow]:
    """Every row of ``source`` (all statuses), keyed by path."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: a third faster than sqlite3.Row for 100k rows
    cursor.execute(f"SELECT {_COLUMNS} FROM files WHERE source = ?", (source,))
    return {record[2]: FileRow(*record) for record in cursor}


def load_scope(
    conn: sqlite3.Connection, source: str, folders: Iterable[str], trees: Iterable[str]
) -> dict[str, FileRow]:
    """The rows of ``source`` directly inside ``folders`` or anywhere below ``trees`` (all
    statuses), keyed by path: what a notification round compares its listings with. Each
    folder and tree is one range query on the (source, path) index."""
    found: dict[str, FileRow] = {}
    cursor = conn.cursor()
    cursor.row_factory = None
    for folder in folders:
        if folder:
            lo, hi = folder + "/", folder + "0"  # '0' sorts right after '/'
            cursor.execute(
                f"SELECT {_COLUMNS} FROM files WHERE source = ? AND path >= ? AND path < ?",
                (source, lo, hi),
            )
            depth = folder.count("/") + 1
        else:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM files WHERE source = ? AND instr(path, '/') = 0",
                (source,),
            )
            depth = 0
        for record in cursor:
            if record[2].count("/") == depth:
                found[record[2]] = FileRow(*record)
    for tree in trees:
        if tree:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM files WHERE source = ? AND path >= ? AND path < ?",
                (source, tree + "/", tree + "0"),
            )
        else:
            cursor.execute(f"SELECT {_COLUMNS} FROM files WHERE source = ?", (source,))
        for record in cursor:
            found[record[2]] = FileRow(*record)
    return found


def by_file_ids(conn: sqlite3.Connection, source: str, ids: Iterable[str]) -> list[FileRow]:
    """Rows of ``source`` carrying any of the server file ids ``ids`` (every status)."""
    return _rows_where_in(conn, source, "file_id IN ({})", sorted(set(ids)))


def fingerprinted_of_sizes(
    conn: sqlite3.Connection, source: str, sizes: Iterable[int]
) -> list[FileRow]:
    """Rows of ``source`` with a content fingerprint and one of ``sizes`` (move candidates on
    servers without file ids)."""
    condition = "fingerprint IS NOT NULL AND size IN ({})"
    return _rows_where_in(conn, source, condition, sorted(set(sizes)))


def _rows_where_in(
    conn: sqlite3.Connection, source: str, condition: str, values: Sequence[object]
) -> list[FileRow]:
    """Rows of ``source`` matching ``condition``, whose ``{}`` takes a list of ``values``
    (asked for 500 at a time, below SQLite's limit on parameters)."""
    found: list[FileRow] = []
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        where = condition.format(", ".join("?" * len(chunk)))
        sql = f"SELECT {_COLUMNS} FROM files WHERE source = ? AND {where}"
        found += [_row(r) for r in conn.execute(sql, (source, *chunk))]
    return found


def get(conn: sqlite3.Connection, file_id: str) -> FileRow | None:
    """One row by catalog id, or None."""
    record = conn.execute(f"SELECT {_COLUMNS} FROM files WHERE id = ?", (file_id,)).fetchone()
    return None if record is None else _row(record)


def get_by_path(conn: sqlite3.Connection, source: str, path: str) -> FileRow | None:
    """One row by (source, catalog path), or None."""
    record = conn.execute(
        f"SELECT {_COLUMNS} FROM files WHERE source = ? AND path = ?", (source, path)
    ).fetchone()
    return None if record is None else _row(record)


def pending_probe(conn: sqlite3.Connection, source: str) -> list[FileRow]:
    """Active media rows of ``source`` that still need a probe, in path order."""
    cursor = conn.execute(
        f"SELECT {_COLUMNS} FROM files WHERE source = ? AND status = 'active' AND is_media = 1 "
        "AND probe_state = 'pending' ORDER BY path",
        (source,),
    )
    return [_row(r) for r in cursor]


def count_present(conn: sqlite3.Connection, source: str) -> int:
    """Rows of ``source`` that count as present (active or incoming)."""
    return int(
        conn.execute(
            "SELECT count(*) FROM files WHERE source = ? AND status IN ('active', 'incoming')",
            (source,),
        ).fetchone()[0]
    )


# --- writes ----------------------------------------------------------------------------------


def record_events(conn: sqlite3.Connection, events: Iterable[Event], now: str) -> None:
    """Append history rows (one per change) at ``now``."""
    conn.executemany(
        "INSERT INTO file_events (file, at, kind, detail) VALUES (?, ?, ?, ?)",
        [
            (
                e.file,
                now,
                e.kind,
                None if e.detail is None else json.dumps(e.detail, ensure_ascii=False),
            )
            for e in events
        ],
    )


def _probe_state_for(path: str) -> str:
    return "pending" if is_media(path) else "skipped"


def add(
    conn: sqlite3.Connection,
    source: str,
    entries: Sequence[tuple[FileInfo, str]],
    now: str,
    *,
    fingerprints: dict[str, str] | None = None,
) -> list[str]:
    """Insert new files ``(info, status)`` with fresh ids and a ``new`` event each.

    Media files start with ``probe_state`` 'pending', everything else 'skipped'. Returns the ids
    in the order of ``entries``.
    """
    ids = [db.new_id() for _ in entries]
    prints = fingerprints or {}
    rows = []
    for file_key, (info, status) in zip(ids, entries, strict=True):
        rows.append(
            (
                file_key,
                source,
                info.path,
                paths.name_of(info.path),
                paths.extension(info.path),
                info.size,
                info.mtime,
                info.file_id,
                status,
                int(is_media(info.path)),
                _probe_state_for(info.path),
                prints.get(info.path),
                now,
                now,
                now,
            )
        )
    conn.executemany(
        "INSERT INTO files (id, source, path, name, ext, size, mtime, file_id, status, is_media, "
        "probe_state, fingerprint, first_seen, last_seen, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    record_events(
        conn,
        (
            Event(file_key, "new", {"path": info.path, "size": info.size, "status": status})
            for file_key, (info, status) in zip(ids, entries, strict=True)
        ),
        now,
    )
    return ids


def change(
    conn: sqlite3.Connection,
    items: Sequence[tuple[FileRow, FileInfo, str]],
    now: str,
) -> None:
    """Record new content for existing rows ``(row, info, status)``: size, mtime and file id
    from ``info``, the given status, probe state back to 'pending' for media (a re-probe), the
    old fingerprint dropped, and a ``changed`` event with the old and new size and mtime.
    Missing/deleted rows seen again are restored at the same time (``restored`` event too).
    """
    conn.executemany(
        "UPDATE files SET size = ?, mtime = ?, file_id = ?, status = ?, probe_state = ?, "
        "fingerprint = NULL, missing_since = NULL, last_seen = ?, updated_at = ? WHERE id = ?",
        [
            (info.size, info.mtime, info.file_id, status, _probe_state_for(row.path), now, now,
             row.id)
            for row, info, status in items
        ],
    )  # fmt: skip
    events: list[Event] = []
    for row, info, status in items:
        if row.status not in PRESENT:
            events.append(Event(row.id, "restored", {"path": row.path, "was": row.status}))
        events.append(
            Event(
                row.id,
                "changed",
                {
                    "size": [row.size, info.size],
                    "mtime": [row.mtime, info.mtime],
                    "status": status,
                },
            )
        )
    record_events(conn, events, now)


def move(
    conn: sqlite3.Connection,
    items: Sequence[tuple[FileRow, FileInfo, str]],
    now: str,
) -> None:
    """Give existing rows ``(row, info, status)`` the new path of ``info``; the id, metadata
    and history stay. ``is_media`` follows the new name (``x.mp4.part`` -> ``x.mp4`` becomes
    media, pending a probe); a ``moved`` event records both paths.
    """
    updates = []
    events: list[Event] = []
    for row, info, status in items:
        media = is_media(info.path)
        if media and row.probe_state == "skipped":
            probe_state = "pending"
        elif not media:
            probe_state = "skipped"
        else:
            probe_state = row.probe_state
        updates.append(
            (
                info.path,
                paths.name_of(info.path),
                paths.extension(info.path),
                info.file_id if info.file_id is not None else row.file_id,
                status,
                int(media),
                probe_state,
                now,
                now,
                row.id,
            )
        )
        if row.status not in PRESENT:
            events.append(Event(row.id, "restored", {"path": info.path, "was": row.status}))
        events.append(Event(row.id, "moved", {"from": row.path, "to": info.path}))
    # Two rows may swap paths in one poll: park every moved row on a unique temporary path first
    # so UNIQUE(source, path) never sees two rows on one path mid-update.
    conn.executemany(
        "UPDATE files SET path = '//moving/' || id WHERE id = ?", [(r.id,) for r, _, _ in items]
    )
    conn.executemany(
        "UPDATE files SET path = ?, name = ?, ext = ?, file_id = ?, status = ?, is_media = ?, "
        "probe_state = ?, missing_since = NULL, last_seen = ?, updated_at = ? WHERE id = ?",
        updates,
    )
    record_events(conn, events, now)


def set_status(
    conn: sqlite3.Connection,
    rows: Sequence[FileRow],
    status: str,
    now: str,
    *,
    event: str | None = None,
) -> None:
    """Move rows to ``status`` (recording ``event``, default the status name).

    'missing' stamps ``missing_since``; any present status clears it.
    """
    params: list[tuple[str, ...]]
    if status == "missing":
        sql = "UPDATE files SET status = 'missing', missing_since = ?, updated_at = ? WHERE id = ?"
        params = [(now, now, r.id) for r in rows]
    elif status == "deleted":
        sql = "UPDATE files SET status = 'deleted', updated_at = ? WHERE id = ?"
        params = [(now, r.id) for r in rows]
    else:
        sql = (
            "UPDATE files SET status = ?, missing_since = NULL, last_seen = ?, updated_at = ? "
            "WHERE id = ?"
        )
        params = [(status, now, now, r.id) for r in rows]
    conn.executemany(sql, params)
    kind = event or status
    record_events(conn, (Event(r.id, kind, {"path": r.path, "was": r.status}) for r in rows), now)


def refresh_ids(
    conn: sqlite3.Connection, items: Sequence[tuple[FileRow, FileInfo]], now: str
) -> None:
    """Store a new server file id for otherwise unchanged rows (no event: same content)."""
    conn.executemany(
        "UPDATE files SET file_id = ?, updated_at = ? WHERE id = ?",
        [(info.file_id, now, row.id) for row, info in items],
    )


def set_fingerprints(conn: sqlite3.Connection, prints: dict[str, str], now: str) -> None:
    """Store content fingerprints by catalog id."""
    conn.executemany(
        "UPDATE files SET fingerprint = ?, updated_at = ? WHERE id = ?",
        [(value, now, key) for key, value in prints.items()],
    )


def set_probe_state(
    conn: sqlite3.Connection, file_key: str, state: str, now: str, detail: dict[str, Any]
) -> None:
    """Record a probe outcome: ``probe_state`` 'done' or 'failed' and a probed/probe_failed
    event carrying ``detail``."""
    conn.execute(
        "UPDATE files SET probe_state = ?, updated_at = ? WHERE id = ?", (state, now, file_key)
    )
    kind = "probed" if state == "done" else "probe_failed"
    record_events(conn, [Event(file_key, kind, detail)], now)
