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
from typing import Any

from archive_analyzer.sync.rows import (
    ENTITY_ORDER,
    CatalogRow,
    ContentRow,
    Entity,
    FileRow,
    MediaFacts,
    PlayerRef,
    PlayerRow,
    Row,
    SeriesRow,
    TagRef,
)

Key = tuple[Entity, str]

CONTENT_FACTS = (
    "year",
    "season",
    "episode",
    "day",
    "part",
    "event_number",
    "event_name",
    "buy_in",
    "stream_date",
    "versions",
    "duplicate",
    "external_id",
    "highlight_score",
    "winner",
    "pot_size_bb",
    "is_all_in",
    "is_showdown",
    "board",
)
_BOOL_FACTS = {"duplicate", "is_all_in", "is_showdown"}
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
            "ON c.parent_id = p.id WHERE p.file_id IN ({marks}) AND p.parent_id IS NULL"
        ),
        "content": "SELECT parent_id, id FROM contents WHERE parent_id IN ({marks})",
        "series": "SELECT series_id, id FROM contents WHERE series_id IN ({marks})",
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


def _select(conn: sqlite3.Connection, sql: str, ids: Sequence[str]) -> Iterator[sqlite3.Row]:
    for part in _chunks(ids):
        yield from conn.execute(sql.format(marks=_marks(len(part))), list(part))


def _catalogs(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    sql = "SELECT id, title, sort_order FROM catalogs WHERE id IN ({marks})"
    return [CatalogRow(r["id"], r["title"], int(r["sort_order"])) for r in _select(conn, sql, ids)]


def _series(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    sql = (
        "SELECT id, catalog_id, title, sub_brand, location, year, season, sort_key "
        "FROM series WHERE id IN ({marks})"
    )
    return [
        SeriesRow(
            r["id"],
            r["catalog_id"],
            r["title"],
            r["sub_brand"],
            r["location"],
            r["year"],
            r["season"],
            r["sort_key"],
        )
        for r in _select(conn, sql, ids)
    ]


def _players(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    sql = (
        "SELECT id, name, display_name, name_kr, country, total_hands, total_wins, "
        "career_earnings, wsop_bracelets FROM players WHERE id IN ({marks})"
    )
    return [PlayerRow(*tuple(r)) for r in _select(conn, sql, ids)]


_FILE_SQL = (
    "SELECT f.id, f.path, f.name, f.ext, f.size, f.mtime, f.status, f.is_media, f.probe_state, "
    "f.first_seen, m.id AS m_id, m.status AS m_status, m.container, m.duration_s, m.bit_rate, "
    "m.video_codec, m.video_profile, m.width, m.height, m.frame_rate, m.pix_fmt, "
    "m.field_order, m.audio, m.subtitle_count, m.browser_playable, m.timecode "
    "FROM files f LEFT JOIN media_info m ON m.id = f.id WHERE f.id IN ({marks})"
)


def _file_row(r: sqlite3.Row) -> FileRow:
    media = None
    if r["m_id"] is not None:
        media = MediaFacts(
            status=r["m_status"],
            container=r["container"],
            duration_s=r["duration_s"],
            bit_rate=r["bit_rate"],
            video_codec=r["video_codec"],
            video_profile=r["video_profile"],
            width=r["width"],
            height=r["height"],
            frame_rate=r["frame_rate"],
            pix_fmt=r["pix_fmt"],
            field_order=r["field_order"],
            audio_json=r["audio"] or "[]",
            subtitle_count=int(r["subtitle_count"] or 0),
            browser_playable=bool(r["browser_playable"]),
            timecode=r["timecode"],
        )
    return FileRow(
        id=r["id"],
        path=r["path"],
        name=r["name"],
        ext=r["ext"],
        size=int(r["size"]),
        mtime=float(r["mtime"]),
        status=r["status"],
        is_media=bool(r["is_media"]),
        probe_state=r["probe_state"],
        first_seen=r["first_seen"],
        media=media,
    )


def _files(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    return [_file_row(r) for r in _select(conn, _FILE_SQL, ids)]


def _contents(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Row]:
    facts = ", ".join(f"c.{name}" for name in CONTENT_FACTS)
    sql = (
        "SELECT c.id, c.kind, c.status, c.title, c.sort_key, "
        "coalesce(s.catalog_id, c.catalog_id) AS catalog_id, c.series_id, c.file_id, "
        "c.parent_id, c.start_sec, c.end_sec, c.created_at, "
        "coalesce(c.file_id, p.file_id) AS play_file_id, p.status AS parent_status, "
        f"{facts} "
        "FROM contents c LEFT JOIN series s ON s.id = c.series_id "
        "LEFT JOIN contents p ON p.id = c.parent_id "
        "WHERE c.id IN ({marks})"
    )
    base = list(_select(conn, sql, ids))
    found = [str(r["id"]) for r in base]
    file_ids = list({str(r["play_file_id"]) for r in base if r["play_file_id"] is not None})
    files = {row.id: row for row in (_file_row(r) for r in _select(conn, _FILE_SQL, file_ids))}
    players = _links(
        conn,
        "SELECT cp.content_id, p.id, p.name, p.display_name, p.name_kr, cp.role "
        "FROM content_players cp JOIN players p ON p.id = cp.player_id "
        "WHERE cp.content_id IN ({marks}) ORDER BY cp.content_id, p.name_key, p.id",
        found,
    )
    tags = _links(
        conn,
        "SELECT ct.content_id, t.id, t.name, t.kind FROM content_tags ct "
        "JOIN tags t ON t.id = ct.tag_id WHERE ct.content_id IN ({marks}) "
        "ORDER BY ct.content_id, t.id",
        found,
    )
    thumbs = _thumbnails(conn, list(files.values()))
    out: list[Row] = []
    for r in base:
        cid = str(r["id"])
        out.append(
            ContentRow(
                id=cid,
                kind=r["kind"],
                status=r["status"],
                title=r["title"],
                sort_key=r["sort_key"],
                catalog_id=r["catalog_id"],
                series_id=r["series_id"],
                file_id=r["file_id"],
                parent_id=r["parent_id"],
                start_sec=r["start_sec"],
                end_sec=r["end_sec"],
                created_at=r["created_at"],
                facts=tuple((name, _fact(name, r[name])) for name in CONTENT_FACTS),
                players=tuple(PlayerRef(*link) for link in players.get(cid, [])),
                tags=tuple(TagRef(*link) for link in tags.get(cid, [])),
                play_file=files.get(str(r["play_file_id"])) if r["play_file_id"] else None,
                parent_active=r["parent_id"] is None or r["parent_status"] == "active",
                thumbnail_s=thumbs.get(str(r["play_file_id"])),
            )
        )
    return out


def _thumbnails(conn: sqlite3.Connection, files: Sequence[FileRow]) -> dict[str, float]:
    """Poster positions of ``files`` whose thumbnail matches their current size and mtime."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'thumbnails'"
    ).fetchone()
    if has_table is None or not files:
        return {}
    by_id = {f.id: f for f in files}
    sql = (
        "SELECT file, size, mtime, position_s FROM thumbnails "
        "WHERE file IN ({marks}) AND error IS NULL"
    )
    found: dict[str, float] = {}
    for r in _select(conn, sql, list(by_id)):
        current = by_id[str(r[0])]
        if int(r[1]) == current.size and float(r[2]) == current.mtime:
            found[str(r[0])] = float(r[3] or 0.0)
    return found


def _fact(name: str, value: Any) -> Any:
    if name == "versions":
        try:
            parsed = json.loads(value or "[]")
        except ValueError:
            return []
        return [str(v) for v in parsed] if isinstance(parsed, list) else []
    if name in _BOOL_FACTS and value is not None:
        return bool(value)
    return value


def _links(
    conn: sqlite3.Connection, sql: str, ids: Sequence[str]
) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in _select(conn, sql, ids):
        out.setdefault(str(r[0]), []).append(tuple(r)[1:])
    return out
