"""Reading the catalog for the sync: pending changes, their dependents, row snapshots.

All reads of one planning step happen inside one read transaction (a consistent snapshot under
WAL). Queries go through indexes: the change log by its primary key (``seq``), rows by id, and
dependents by ``contents_file``/``contents_parent``/``contents_series``/link indexes, so an
incremental sync costs in proportion to the changes, not to the catalog.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from archive_analyzer.catalog import file_facts, read
from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.sync.rows import ENTITY_ORDER, ContentSnapshot, Entity, Row

Key = tuple[Entity, str]

_CHUNK = 500  # ids per IN (...) query


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


# --- the change log ------------------------------------------------------------------------


def head(conn: sqlite3.Connection) -> int:
    """The newest change sequence ever issued (0 before the first change).

    Read from ``sqlite_sequence`` (AUTOINCREMENT's counter), not ``max(seq)``: the log is
    emptied up to the watermark after each sync.
    """
    row = conn.execute(
        "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'sync_changes'"
    ).fetchone()
    return int(row[0])


def pending(conn: sqlite3.Connection, after: int, limit: int) -> list[tuple[int, str, str]]:
    """Up to ``limit`` changes after sequence ``after``: (seq, entity, row id), in seq order."""
    rows = conn.execute(
        "SELECT seq, entity, row_id FROM sync_changes WHERE seq > ? ORDER BY seq LIMIT ?",
        (after, limit),
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def dependents(conn: sqlite3.Connection, entity: str, ids: Sequence[str]) -> list[tuple[str, str]]:
    """Contents whose documents embed rows of ``entity`` ``ids``, as (cause id, content id).

    A file's contents (and clips of those), a content's clips, a series' contents (their path
    holds the catalog), a player's or a tag's linked contents: they must be re-planned.
    """
    queries = {
        # "parent_id IS NULL" lets SQLite use the partial index contents_file (a content that
        # has both a parent and a file of its own is not a shape the catalog model creates).
        "file": (
            "SELECT file_id, id FROM contents WHERE file_id IN ({marks}) AND parent_id IS NULL "
            "UNION ALL SELECT p.file_id, c.id FROM contents p JOIN contents c "
            "ON c.parent_id = p.id WHERE p.file_id IN ({marks}) AND p.parent_id IS NULL "
            # the content a joined version's file is listed in, and its clips (issue 18)
            "UNION ALL SELECT m.file_id, v.primary_id FROM content_versions v "
            "JOIN contents m ON m.id = v.content_id WHERE m.file_id IN ({marks}) "
            "UNION ALL SELECT m.file_id, c.id FROM content_versions v "
            "JOIN contents m ON m.id = v.content_id JOIN contents c ON c.parent_id = v.primary_id "
            "WHERE m.file_id IN ({marks})"
        ),
        "content": "SELECT parent_id, id FROM contents WHERE parent_id IN ({marks})",
        # A series' contents, and the clips of those (a clip's series is its parent's).
        "series": (
            "SELECT series_id, id FROM contents WHERE series_id IN ({marks}) "
            "UNION ALL SELECT p.series_id, c.id FROM contents p JOIN contents c "
            "ON c.parent_id = p.id WHERE p.series_id IN ({marks})"
        ),
        "player": "SELECT player_id, content_id FROM content_players WHERE player_id IN ({marks})",
        "tag": "SELECT tag_id, content_id FROM content_tags WHERE tag_id IN ({marks})",
    }
    sql = queries.get(entity)
    if sql is None:
        return []
    found: list[tuple[str, str]] = []
    for part in _chunks(list(ids)):
        marks = _marks(len(part))
        params = list(part) * sql.count("{marks}")
        found.extend((str(r[0]), str(r[1])) for r in conn.execute(sql.format(marks=marks), params))
    return found


def all_keys(conn: sqlite3.Connection) -> list[Key]:
    """Every row that can have a document, parents first (for a full sync)."""
    tables: dict[Entity, str] = {
        "catalog": "catalogs",
        "series": "series",
        "player": "players",
        "file": "files",
        "content": "contents",
    }
    keys: list[Key] = []
    for entity in ENTITY_ORDER:
        keys.extend((entity, str(r[0])) for r in conn.execute(f"SELECT id FROM {tables[entity]}"))
    return keys


# --- row snapshots -------------------------------------------------------------------------


def load_rows(conn: sqlite3.Connection, keys: Iterable[Key]) -> dict[Key, Row]:
    """Snapshots of the rows named by ``keys``; a key with no row (deleted) is absent."""
    by_entity: dict[Entity, list[str]] = {}
    for entity, row_id in keys:
        by_entity.setdefault(entity, []).append(row_id)
    out: dict[Key, Row] = {}
    loaders = {
        "catalog": _catalogs,
        "series": _series,
        "player": _players,
        "file": _files,
        "content": _contents,
    }
    for kind, ids in by_entity.items():
        loader = loaders.get(kind)
        if loader is None:
            continue
        unique = list(dict.fromkeys(ids))
        for row in loader(conn, unique):
            out[(kind, row.id)] = row
    return out


def _catalogs(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    return list(read.catalogs(conn, ids))


def _series(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    return list(read.series(conn, ids))


def _players(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    return list(read.players(conn, ids))


def _files(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    return list(file_facts.files(conn, ids))


def _contents(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    rows = read.contents(conn, ids)
    found = [row.id for row in rows]
    versions = _version_links(conn, found)
    played = {row.play_file_id for row in rows if row.play_file_id is not None}
    listed = {file_id for links in versions.values() for file_id, _ in links}
    files = {f.id: f for f in file_facts.files(conn, played | listed)}
    players = read.player_links(conn, found)
    tags = read.tag_links(conn, found)
    thumbs = _thumbnails(conn, list(files.values()))
    return [
        ContentSnapshot(
            content=row,
            players=players.get(row.id, ()),
            tags=tags.get(row.id, ()),
            play_file=files.get(row.play_file_id) if row.play_file_id else None,
            thumbnail_s=thumbs.get(row.play_file_id) if row.play_file_id else None,
            versions=tuple(
                (files[file_id], kind)
                for file_id, kind in versions.get(row.id, ())
                if file_id in files
            ),
        )
        for row in rows
    ]


def _version_links(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """The version files of contents that have versions: (file id, kind), their own first."""
    found: dict[str, list[tuple[str, str]]] = {}
    for part in _chunks(list(ids)):
        rows = conn.execute(
            "SELECT vf.content_id, vf.file_id, coalesce(jv.kind, 'own') FROM version_files vf "
            "LEFT JOIN content_versions jv ON jv.content_id = vf.version_id AND vf.member = 1 "
            f"WHERE vf.content_id IN ({_marks(len(part))}) "
            "ORDER BY vf.content_id, vf.member, vf.file_id",
            list(part),
        )
        for content_id, file_id, kind in rows:
            found.setdefault(str(content_id), []).append((str(file_id), str(kind)))
    return {cid: links for cid, links in found.items() if len(links) > 1}


def _thumbnails(conn: sqlite3.Connection, files: Sequence[FileFacts]) -> dict[str, float]:
    """Poster positions of ``files`` whose thumbnail matches their current size and mtime."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'thumbnails'"
    ).fetchone()
    if has_table is None or not files:
        return {}
    by_id = {f.id: f for f in files}
    found: dict[str, float] = {}
    for r in conn.execute(
        "SELECT file, size, mtime, position_s FROM thumbnails "
        "WHERE file IN (SELECT value FROM json_each(?)) AND error IS NULL",
        (json.dumps(list(by_id)),),
    ):
        current = by_id[str(r[0])]
        if int(r[1]) == current.size and float(r[2]) == current.mtime:
            found[str(r[0])] = float(r[3] or 0.0)
    return found
