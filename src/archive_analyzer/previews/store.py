"""Where previews live and what the ``previews`` table says about them.

Files: ``<root>/<id[:2]>/<file id>-<size>-<mtime ms>/`` holds ``sprite-N.jpg`` and
``thumbs.vtt``; a changed file (another size or mtime) gets a new folder and the old one is
deleted. The total stays under a cap: the least recently viewed strips (the track file's
mtime, touched when served) are evicted first and their rows marked ``evicted``.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path

from archive_analyzer.catalog import db

TRACK = "thumbs.vtt"


@dataclass(frozen=True, slots=True)
class PreviewRecord:
    """One row of ``previews``."""

    file: str
    size: int
    mtime: float
    status: str  # done | failed | evicted
    interval_s: float
    frames: int = 0
    tile_width: int = 0
    tile_height: int = 0
    columns: int = 0
    sprites: int = 0
    poster_s: float | None = None
    bytes_read: int = 0
    cpu_s: float = 0.0
    ms: float = 0.0
    stored_bytes: int = 0
    error: str | None = None


_COLUMNS = [f.name for f in fields(PreviewRecord)]


def version_name(file_id: str, size: int, mtime: float) -> str:
    return f"{file_id}-{size}-{int(mtime * 1000)}"


def folder(root: Path, file_id: str, size: int, mtime: float) -> Path:
    return root / file_id[:2] / version_name(file_id, size, mtime)


def poster_path(thumbs_root: Path, file_id: str, size: int, mtime: float) -> Path:
    """The poster frame's path: the same name the web's on-demand frames use."""
    return thumbs_root / file_id[:2] / f"{version_name(file_id, size, mtime)}.jpg"


def load(conn: sqlite3.Connection, file_id: str) -> PreviewRecord | None:
    row = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM previews WHERE file = ?", (file_id,)
    ).fetchone()
    return None if row is None else PreviewRecord(*row)


def save(conn: sqlite3.Connection, record: PreviewRecord, now: db.Clock) -> None:
    """Insert or replace the row of ``record.file`` (call inside ``db.transaction``)."""
    at = db.timestamp(now())
    names = [*_COLUMNS, "made_at", "updated_at"]
    values = [getattr(record, c) for c in _COLUMNS] + [at, at]
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c != "file")
    conn.execute(
        f"INSERT INTO previews ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT (file) DO UPDATE SET {updates}",
        values,
    )


@dataclass(frozen=True, slots=True)
class Pending:
    """A file version that needs previews."""

    file_id: str
    path: str
    size: int
    mtime: float
    duration_s: float


_PENDING = (
    "FROM contents c "
    "JOIN files f ON f.id = c.file_id JOIN media_info m ON m.id = f.id "
    "LEFT JOIN previews p ON p.file = f.id "
    "WHERE c.status = 'active' AND f.status = 'active' AND f.source = ? "
    "AND m.video_codec IS NOT NULL AND m.duration_s > 0 "
    "AND m.status IN ('ok', 'incomplete') "
    "AND (p.file IS NULL OR p.size != f.size OR p.mtime != f.mtime) "
)


def pending(conn: sqlite3.Connection, source: str, limit: int) -> list[Pending]:
    """Files of ``source`` with a probed video and no previews for their current version,
    newest content first. A version that failed or was evicted is not offered again."""
    rows = conn.execute(
        "SELECT f.id, f.path, f.size, f.mtime, m.duration_s "
        + _PENDING
        + "GROUP BY f.id ORDER BY max(c.created_at) DESC, f.id LIMIT ?",
        (source, limit),
    ).fetchall()
    return [Pending(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def count_pending(conn: sqlite3.Connection, source: str) -> int:
    """How many files ``pending`` would offer."""
    row = conn.execute("SELECT count(DISTINCT f.id) " + _PENDING, (source,)).fetchone()
    return int(row[0])


def current(conn: sqlite3.Connection, file_id: str) -> PreviewRecord | None:
    """The done previews of the file's current version, else None."""
    row = conn.execute("SELECT size, mtime FROM files WHERE id = ?", (file_id,)).fetchone()
    found = load(conn, file_id)
    if row is None or found is None or found.status != "done":
        return None
    return found if (found.size, found.mtime) == (row[0], row[1]) else None


def remove_old_versions(root: Path, file_id: str, keep: str) -> None:
    """Delete the file's other version folders (a changed file's old strips)."""
    parent = root / file_id[:2]
    if not parent.is_dir():
        return
    for entry in parent.glob(f"{file_id}-*"):
        if entry.name != keep and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def enforce_cap(
    conn: sqlite3.Connection, root: Path, cap_bytes: int, now: db.Clock, keep: str | None = None
) -> int:
    """Evict the least recently viewed strips until the total is at most ``cap_bytes``;
    returns how many were evicted. ``keep`` (a file id) is never evicted."""
    rows = conn.execute(
        "SELECT file, size, mtime, stored_bytes FROM previews WHERE status = 'done'"
    ).fetchall()
    total = sum(r[3] for r in rows)
    if total <= cap_bytes:
        return 0
    aged: list[tuple[float, str, int, float, int]] = []
    for file_id, size, mtime, stored in rows:
        track = folder(root, file_id, size, mtime) / TRACK
        try:
            seen = track.stat().st_mtime
        except OSError:
            seen = 0.0
        aged.append((seen, file_id, size, mtime, stored))
    aged.sort()
    evicted = 0
    at = db.timestamp(now())
    for _seen, file_id, size, mtime, stored in aged:
        if total <= cap_bytes:
            break
        if file_id == keep:
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(folder(root, file_id, size, mtime))
        with db.transaction(conn):
            conn.execute(
                "UPDATE previews SET status = 'evicted', updated_at = ? WHERE file = ?",
                (at, file_id),
            )
        total -= stored
        evicted += 1
    return evicted
