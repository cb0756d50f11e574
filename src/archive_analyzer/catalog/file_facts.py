"""A catalogued file as readers see it: its row, its media facts and its fixity, and the file
a content plays.

``played_file`` is the only way a request reaches a file: it takes the read model's
``play_file_id`` (``content_view``, migration 0010/0061) and refuses a hidden content or a
deleted file. A hash counts only for the version of the file it was taken of
(``fixity.hasher.same_version_sql``). Values in, values out; never writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from archive_analyzer.catalog.media import MEDIA_COLUMNS, MediaInfo, media_row
from archive_analyzer.catalog.read import ID_SET, id_set
from archive_analyzer.fixity.hasher import same_version_sql


@dataclass(frozen=True, slots=True)
class FileFacts:
    """A catalogued file and its media facts (None until probed).

    ``source`` is the display-safe source name (never a password); the sync does not publish
    it, playback uses it to find the configured source.
    """

    id: str
    source: str
    path: str
    name: str
    ext: str
    size: int
    mtime: float
    status: str
    is_media: bool
    probe_state: str
    first_seen: str
    media: MediaInfo | None = None
    # The whole-file xxh128 of this version and its fixity state ('ok', 'mismatch'), None
    # until hashed (issue 18, docs/fixity.md).
    xxh128: str | None = None
    fixity: str | None = None


_MEDIA_SELECT = ", ".join(f"m.{name} AS m_{name}" for name in MEDIA_COLUMNS)
_HASHED = same_version_sql("h")
_FILE_SQL = (
    "SELECT f.id, f.source, f.path, f.name, f.ext, f.size, f.mtime, f.status, f.is_media, "
    f"f.probe_state, f.first_seen, m.id AS m_id, {_MEDIA_SELECT}, "
    f"CASE WHEN {_HASHED} THEN h.xxh128 END AS h_xxh, "
    f"CASE WHEN {_HASHED} AND h.xxh128 IS NOT NULL THEN h.status END AS h_fixity "
    "FROM files f LEFT JOIN media_info m ON m.id = f.id LEFT JOIN file_hashes h ON h.file = f.id"
)


def _file_row(r: sqlite3.Row) -> FileFacts:
    return FileFacts(
        id=r["id"],
        source=r["source"],
        path=r["path"],
        name=r["name"],
        ext=r["ext"],
        size=int(r["size"]),
        mtime=float(r["mtime"]),
        status=r["status"],
        is_media=bool(r["is_media"]),
        probe_state=r["probe_state"],
        first_seen=r["first_seen"],
        media=media_row(r, "m_") if r["m_id"] is not None else None,
        xxh128=r["h_xxh"],
        fixity=r["h_fixity"],
    )


def files(conn: sqlite3.Connection, ids: Iterable[str]) -> list[FileFacts]:
    """The files with these ids and their media facts, in no particular order."""
    rows = conn.execute(f"{_FILE_SQL} WHERE f.id IN {ID_SET}", (id_set(ids),))
    return [_file_row(r) for r in rows]


def file(conn: sqlite3.Connection, file_id: str) -> FileFacts | None:
    found = files(conn, [file_id])
    return found[0] if found else None


def played_file(conn: sqlite3.Connection, content_id: str) -> FileFacts | None:
    """The file a visible content plays (a clip of a parent: the parent's), unless that file
    is deleted; None otherwise. The only way a request reaches a file.

    A content joined to another as a version (issue 18) is hidden from listings but still
    plays its own file: a page, a player or a link opened before the join (hashing joins
    copies while people browse) keeps working instead of answering 404 mid-play."""
    row = conn.execute(
        f"{_FILE_SQL} JOIN content_view v ON v.play_file_id = f.id "
        "WHERE v.id = ? AND f.status != 'deleted' AND (v.visible OR (v.status = 'active' "
        "AND v.parent_id IS NULL AND EXISTS "
        "(SELECT 1 FROM content_versions jv WHERE jv.content_id = v.id)))",
        (content_id,),
    ).fetchone()
    return None if row is None else _file_row(row)


@dataclass(frozen=True, slots=True)
class ProbeProblem:
    """A catalogued media file the prober could not read as healthy media."""

    file_id: str
    path: str
    status: str  # the probe verdict: truncated, invalid, error ...
    error: str | None
    probed_at: str | None


def probe_problems(conn: sqlite3.Connection, limit: int = 200) -> list[ProbeProblem]:
    """Media files (not deleted) whose probe verdict is not ok, newest verdict first."""
    return [
        ProbeProblem(r[0], r[1], r[2], r[3], r[4])
        for r in conn.execute(
            "SELECT f.id, f.path, m.status, m.error, m.probed_at FROM media_info m "
            "JOIN files f ON f.id = m.id WHERE m.status != 'ok' AND f.status != 'deleted' "
            "AND f.is_media = 1 ORDER BY m.probed_at DESC LIMIT ?",
            (limit,),
        )
    ]
