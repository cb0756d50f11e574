"""Read-side queries of the catalog for the pages and the JSON API (values out, no writes).

Only ``status = 'active'`` contents are visible. A clip with a parent plays the parent's file
from ``start_sec`` to ``end_sec``; a clip cut as its own file plays that file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archive_analyzer.catalog import series_order

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def valid_id(value: str) -> bool:
    """Whether ``value`` can be a catalog id at all (slugs and hex ids; no '/', no '..')."""
    return 0 < len(value) <= 200 and set(value) <= _ID_CHARS and ".." not in value


@dataclass(frozen=True, slots=True)
class CatalogRow:
    id: str
    title: str
    series_count: int
    content_count: int


@dataclass(frozen=True, slots=True)
class SeriesRow:
    id: str
    catalog_id: str
    catalog_title: str
    title: str
    sub_brand: str | None
    location: str | None
    year: int | None
    season: int | None
    episode_count: int


@dataclass(frozen=True, slots=True)
class Card:
    """A content as listed: enough to show a row or tile and to build its links."""

    id: str
    kind: str
    title: str
    parent_id: str | None
    start_sec: float | None
    end_sec: float | None
    series_id: str | None
    series_title: str | None
    catalog_id: str | None
    catalog_title: str | None
    year: int | None
    season: int | None
    episode: int | None
    day: str | None
    part: int | None
    event_number: int | None
    stream_date: str | None
    duration_s: float | None
    width: int | None
    height: int | None
    browser_playable: bool
    created_at: str
    progress_s: float | None = None
    # the viewer's own state (web/browse.py fills them in)
    watched: bool = False
    on_list: bool = False

    @property
    def resolution(self) -> str | None:
        """A badge: 4K, 1080p, 720p, SD (None when unknown)."""
        return resolution_badge(self.height)

    @property
    def play_seconds(self) -> float | None:
        """How long it plays: the clip's range, else the file's duration."""
        if self.start_sec is not None and self.end_sec is not None:
            return max(0.0, self.end_sec - self.start_sec)
        return self.duration_s

    @property
    def progress_fraction(self) -> float | None:
        """How far into its range the viewer is (0..1), None when not started."""
        length = self.play_seconds
        if self.progress_s is None or not length:
            return None
        return min(1.0, max(0.0, (self.progress_s - (self.start_sec or 0.0)) / length))


@dataclass(frozen=True, slots=True)
class PlayerRow:
    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    country: str | None
    role: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class Media:
    """Technical metadata of the file a content plays."""

    file_name: str
    ext: str
    size: int
    container: str | None
    format_long_name: str | None
    duration_s: float | None
    bit_rate: int | None
    video_codec: str | None
    video_profile: str | None
    width: int | None
    height: int | None
    frame_rate: float | None
    pix_fmt: str | None
    field_order: str | None
    audio: list[dict[str, Any]]
    subtitle_count: int
    browser_playable: bool
    status: str | None
    timecode: str | None = None  # the source's start timecode label


@dataclass(frozen=True, slots=True)
class Detail:
    card: Card
    media: Media | None
    players: list[PlayerRow] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    clips: list[Card] = field(default_factory=list)
    parent: Card | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlaybackFile:
    """What ``/stream`` may open: a catalogued file row (never a path from a request)."""

    file_id: str
    source: str
    path: str
    ext: str
    size: int
    mtime: float
    status: str


def resolution_badge(height: int | None) -> str | None:
    if not height:
        return None
    if height >= 2160:
        return "4K"
    if height >= 1440:
        return "1440p"
    if height >= 1080:
        return "1080p"
    if height >= 720:
        return "720p"
    return "SD"


_CARD_SQL = """
SELECT c.id, c.kind, c.title, c.parent_id, c.start_sec, c.end_sec, c.year, c.season,
       c.episode, c.day, c.part, c.event_number, c.stream_date, c.created_at,
       coalesce(c.series_id, p.series_id) AS series_id, s.title AS series_title,
       coalesce(c.catalog_id, s.catalog_id, p.catalog_id) AS catalog_id, cat.title AS catalog_title,
       m.duration_s, m.width, m.height, coalesce(m.browser_playable, 0) AS browser_playable
FROM contents c
LEFT JOIN contents p ON p.id = c.parent_id
LEFT JOIN series s ON s.id = coalesce(c.series_id, p.series_id)
LEFT JOIN catalogs cat ON cat.id = coalesce(c.catalog_id, s.catalog_id, p.catalog_id)
LEFT JOIN media_info m ON m.id = coalesce(c.file_id, p.file_id)
"""
_VISIBLE = "c.status = 'active' AND (c.parent_id IS NULL OR p.status = 'active')"


def _card(row: sqlite3.Row, progress: float | None = None) -> Card:
    return Card(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        parent_id=row["parent_id"],
        start_sec=row["start_sec"],
        end_sec=row["end_sec"],
        series_id=row["series_id"],
        series_title=row["series_title"],
        catalog_id=row["catalog_id"],
        catalog_title=row["catalog_title"],
        year=row["year"],
        season=row["season"],
        episode=row["episode"],
        day=row["day"],
        part=row["part"],
        event_number=row["event_number"],
        stream_date=row["stream_date"],
        duration_s=row["duration_s"],
        width=row["width"],
        height=row["height"],
        browser_playable=bool(row["browser_playable"]),
        created_at=row["created_at"],
        progress_s=progress,
    )


def catalogs(conn: sqlite3.Connection) -> list[CatalogRow]:
    """Brands that have visible contents, in their sort order."""
    rows = conn.execute(
        "SELECT cat.id, cat.title, "
        "(SELECT count(*) FROM series s WHERE s.catalog_id = cat.id) AS series_count, "
        "(SELECT count(*) FROM contents c WHERE c.catalog_id = cat.id AND c.status = 'active' "
        " AND c.kind = 'episode') AS content_count "
        "FROM catalogs cat ORDER BY cat.sort_order, cat.title"
    ).fetchall()
    return [CatalogRow(r["id"], r["title"], r["series_count"], r["content_count"]) for r in rows]


def catalog(conn: sqlite3.Connection, catalog_id: str) -> CatalogRow | None:
    return next((c for c in catalogs(conn) if c.id == catalog_id), None)


def series_of(conn: sqlite3.Connection, catalog_id: str) -> list[SeriesRow]:
    """The series of a brand: newest year first, then by their sort key."""
    return _series(conn, "s.catalog_id = ?", (catalog_id,))


def series(conn: sqlite3.Connection, series_id: str) -> SeriesRow | None:
    found = _series(conn, "s.id = ?", (series_id,))
    return found[0] if found else None


def _series(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[SeriesRow]:
    rows = conn.execute(
        "SELECT s.id, s.catalog_id, cat.title AS catalog_title, s.title, s.sub_brand, "
        "s.location, s.year, s.season, "
        "(SELECT count(*) FROM contents c WHERE c.series_id = s.id AND c.status = 'active' "
        " AND c.parent_id IS NULL) AS n "
        f"FROM series s JOIN catalogs cat ON cat.id = s.catalog_id WHERE {where} "
        "ORDER BY s.year IS NULL, s.year DESC, s.sort_key, s.title",
        tuple(params),
    ).fetchall()
    return [
        SeriesRow(
            r["id"],
            r["catalog_id"],
            r["catalog_title"],
            r["title"],
            r["sub_brand"],
            r["location"],
            r["year"],
            r["season"],
            r["n"],
        )
        for r in rows
        if r["n"] > 0
    ]


def series_contents(conn: sqlite3.Connection, series_id: str) -> list[Card]:
    """Episodes (and own-file clips) of a series in series order (``catalog/series_order``)."""
    return cards(conn, [p.id for p in series_order.series_places(conn, series_id)])


def cards(conn: sqlite3.Connection, content_ids: Sequence[str]) -> list[Card]:
    """Cards for these ids, in the order given (unknown or hidden ids dropped)."""
    if not content_ids:
        return []
    rows = conn.execute(
        f"{_CARD_SQL} WHERE c.id IN (SELECT value FROM json_each(?)) AND {_VISIBLE}",
        (json.dumps(list(content_ids)),),
    ).fetchall()
    by_id = {r["id"]: _card(r) for r in rows}
    return [by_id[i] for i in content_ids if i in by_id]


def card(conn: sqlite3.Connection, content_id: str) -> Card | None:
    found = cards(conn, [content_id])
    return found[0] if found else None


def recently_added(
    conn: sqlite3.Connection, limit: int = 12, *, brands: frozenset[str] | None = None
) -> list[Card]:
    """The newest episodes (of these brands only, when given: per-brand visibility)."""
    only = "" if brands is None else "AND cat.id IN (SELECT value FROM json_each(?)) "
    params: tuple[object, ...] = () if brands is None else (json.dumps(sorted(brands)),)
    rows = conn.execute(
        f"{_CARD_SQL} WHERE c.kind = 'episode' AND {_VISIBLE} {only}"
        "ORDER BY c.created_at DESC, c.sort_key LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_card(r) for r in rows]


def brand_row(conn: sqlite3.Connection, catalog_id: str, limit: int = 12) -> list[Card]:
    rows = conn.execute(
        f"{_CARD_SQL} WHERE c.catalog_id = ? AND c.kind = 'episode' AND {_VISIBLE} "
        "ORDER BY c.year IS NULL, c.year DESC, c.created_at DESC LIMIT ?",
        (catalog_id, limit),
    ).fetchall()
    return [_card(r) for r in rows]


def recent_clips(conn: sqlite3.Connection, catalog_id: str | None, limit: int) -> list[Card]:
    """The newest clips (hands and clips cut as their own files), of one brand or all."""
    brand = "AND coalesce(c.catalog_id, s.catalog_id, p.catalog_id) = ? " if catalog_id else ""
    rows = conn.execute(
        f"{_CARD_SQL} WHERE c.kind = 'clip' AND {_VISIBLE} {brand}"
        "ORDER BY c.created_at DESC, c.id LIMIT ?",
        (catalog_id, limit) if catalog_id else (limit,),
    ).fetchall()
    return [_card(r) for r in rows]


def clips_in(conn: sqlite3.Connection, parent_ids: Sequence[str], limit: int) -> list[Card]:
    """The hands of these episodes: episode by episode in the order given, each by start."""
    rows = conn.execute(
        f"{_CARD_SQL} WHERE c.parent_id IN (SELECT value FROM json_each(?)) AND {_VISIBLE} "
        "ORDER BY c.start_sec, c.title",
        (json.dumps(list(parent_ids)),),
    ).fetchall()
    rank = {pid: n for n, pid in enumerate(parent_ids)}
    ordered = sorted(rows, key=lambda r: rank.get(r["parent_id"], len(rank)))
    return [_card(r) for r in ordered[:limit]]


def continue_watching(conn: sqlite3.Connection, user_id: str, limit: int = 12) -> list[Card]:
    """The user's unfinished contents, most recently watched first, with their positions."""
    rows = conn.execute(
        f"{_CARD_SQL} JOIN watch_progress w ON w.content_id = c.id "
        f"WHERE w.user_id = ? AND w.finished = 0 AND {_VISIBLE} "
        "ORDER BY w.updated_at DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    positions = dict(
        conn.execute(
            "SELECT content_id, position_s FROM watch_progress WHERE user_id = ?", (user_id,)
        ).fetchall()
    )
    return [_card(r, positions.get(r["id"])) for r in rows]


def players_of(conn: sqlite3.Connection, content_id: str) -> list[PlayerRow]:
    rows = conn.execute(
        "SELECT p.id, p.name, p.display_name, p.name_kr, p.country, cp.role "
        "FROM content_players cp JOIN players p ON p.id = cp.player_id "
        "WHERE cp.content_id = ? ORDER BY cp.role = 'player', coalesce(p.display_name, p.name)",
        (content_id,),
    ).fetchall()
    return [PlayerRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def player(conn: sqlite3.Connection, player_id: str) -> PlayerRow | None:
    r = conn.execute(
        "SELECT id, name, display_name, name_kr, country FROM players WHERE id = ?", (player_id,)
    ).fetchone()
    return PlayerRow(r[0], r[1], r[2], r[3], r[4]) if r else None


def clips_of(conn: sqlite3.Connection, content_id: str) -> list[Card]:
    rows = conn.execute(
        f"{_CARD_SQL} WHERE c.parent_id = ? AND {_VISIBLE} ORDER BY c.start_sec, c.title",
        (content_id,),
    ).fetchall()
    return [_card(r) for r in rows]


def detail(conn: sqlite3.Connection, content_id: str) -> Detail | None:
    """Everything the content page shows, or None when the id is not a visible content."""
    found = card(conn, content_id)
    if found is None:
        return None
    row = conn.execute(
        "SELECT c.*, coalesce(c.file_id, p.file_id) AS play_file FROM contents c "
        "LEFT JOIN contents p ON p.id = c.parent_id WHERE c.id = ?",
        (content_id,),
    ).fetchone()
    media = _media(conn, row["play_file"]) if row["play_file"] else None
    tags = [
        r[0]
        for r in conn.execute(
            "SELECT t.name FROM content_tags ct JOIN tags t ON t.id = ct.tag_id "
            "WHERE ct.content_id = ? ORDER BY t.kind, t.name",
            (content_id,),
        )
    ]
    facts = {
        key: row[key]
        for key in (
            "event_name",
            "buy_in",
            "highlight_score",
            "winner",
            "pot_size_bb",
            "is_all_in",
            "is_showdown",
            "board",
        )
        if row[key] is not None
    }
    versions = json.loads(row["versions"] or "[]")
    if versions:
        facts["versions"] = ", ".join(versions)
    parent = card(conn, found.parent_id) if found.parent_id else None
    return Detail(
        card=found,
        media=media,
        players=players_of(conn, content_id),
        tags=tags,
        clips=clips_of(conn, content_id),
        parent=parent,
        facts=facts,
    )


def _media(conn: sqlite3.Connection, file_id: str) -> Media | None:
    r = conn.execute(
        "SELECT f.name, f.ext, f.size, m.* FROM files f LEFT JOIN media_info m ON m.id = f.id "
        "WHERE f.id = ?",
        (file_id,),
    ).fetchone()
    if r is None:
        return None
    try:
        audio = json.loads(r["audio"]) if r["audio"] else []
    except ValueError:
        audio = []
    return Media(
        file_name=r["name"],
        ext=r["ext"],
        size=r["size"],
        container=r["container"],
        format_long_name=r["format_long_name"],
        duration_s=r["duration_s"],
        bit_rate=r["bit_rate"],
        video_codec=r["video_codec"],
        video_profile=r["video_profile"],
        width=r["width"],
        height=r["height"],
        frame_rate=r["frame_rate"],
        pix_fmt=r["pix_fmt"],
        field_order=r["field_order"],
        audio=audio if isinstance(audio, list) else [],
        subtitle_count=r["subtitle_count"] or 0,
        browser_playable=bool(r["browser_playable"]),
        status=r["status"],
        timecode=r["timecode"],
    )


def playback_file(conn: sqlite3.Connection, content_id: str) -> PlaybackFile | None:
    """The catalogued file a visible content plays (a clip: its parent's), or None."""
    r = conn.execute(
        "SELECT f.id, f.source, f.path, f.ext, f.size, f.mtime, f.status FROM contents c "
        "LEFT JOIN contents p ON p.id = c.parent_id "
        "JOIN files f ON f.id = coalesce(c.file_id, p.file_id) "
        f"WHERE c.id = ? AND {_VISIBLE} AND f.status != 'deleted'",
        (content_id,),
    ).fetchone()
    if r is None:
        return None
    return PlaybackFile(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


def progress_of(conn: sqlite3.Connection, user_id: str, content_id: str) -> float | None:
    r = conn.execute(
        "SELECT position_s, finished FROM watch_progress WHERE user_id = ? AND content_id = ?",
        (user_id, content_id),
    ).fetchone()
    if r is None or r[1]:
        return None
    return float(r[0])
