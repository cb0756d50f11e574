"""What the pages and the JSON API show, read through the catalog's read model (no writes).

A content's brand, series, played file, year and visibility are ``content_view``'s
(``catalog/read.py``, docs/classification.md "Reading the catalog"); this module only shapes
them for the pages: cards, a content's detail, brand and series summaries, listings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archive_analyzer.catalog import fields, file_facts, read
from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.catalog.listing import ContentFilter, list_contents
from archive_analyzer.catalog.media import MediaInfo
from archive_analyzer.catalog.read import ContentRow, PlayerRef
from archive_analyzer.catalog.versions import Version, versions_of

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def valid_id(value: str) -> bool:
    """Whether ``value`` can be a catalog id at all (slugs and hex ids; no '/', no '..')."""
    return 0 < len(value) <= 200 and set(value) <= _ID_CHARS and ".." not in value


@dataclass(frozen=True, slots=True)
class CatalogSummary:
    """A brand as the home page and ``/api/catalogs`` list it."""

    id: str
    title: str
    series_count: int
    content_count: int


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """A series as a brand page lists it (``episode_count``: its visible own contents)."""

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
class Detail:
    """Everything the content page shows: the card, the file it plays and its media facts."""

    card: Card
    file: FileFacts | None
    players: list[PlayerRef] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    clips: list[Card] = field(default_factory=list)
    parent: Card | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    # Every file of the content's versions (catalog/versions.py), its own first; empty when
    # it has only its own.
    versions: list[Version] = field(default_factory=list)
    duplicate: bool = False  # the classifier's copy flag (copy folder or copy suffix)

    @property
    def media(self) -> MediaInfo | None:
        return self.file.media if self.file else None


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


# A card: the read model's content row, the titles of its brand and series, and the media
# facts of the file it plays.
_CARD_SQL = """
SELECT v.*, s.title AS series_title, cat.title AS catalog_title,
       m.duration_s, m.width, m.height, coalesce(m.browser_playable, 0) AS browser_playable
FROM content_view v
LEFT JOIN series s ON s.id = v.series_id
LEFT JOIN catalogs cat ON cat.id = v.catalog_id
LEFT JOIN media_info m ON m.id = v.play_file_id
"""


def _card(row: sqlite3.Row, progress: float | None = None) -> Card:
    return card_of(read.content_row(row), row, progress)


def card_of(content: ContentRow, row: sqlite3.Row, progress: float | None = None) -> Card:
    """A card from a content row and the titles and media columns of ``_CARD_SQL``."""
    return Card(
        id=content.id,
        kind=content.kind,
        title=content.title,
        parent_id=content.parent_id,
        start_sec=content.start_sec,
        end_sec=content.end_sec,
        series_id=content.series_id,
        series_title=row["series_title"],
        catalog_id=content.catalog_id,
        catalog_title=row["catalog_title"],
        year=content.year,
        season=content.fact("season"),
        episode=content.fact("episode"),
        day=content.fact("day"),
        part=content.fact("part"),
        event_number=content.fact("event_number"),
        stream_date=content.fact("stream_date"),
        duration_s=row["duration_s"],
        width=row["width"],
        height=row["height"],
        browser_playable=bool(row["browser_playable"]),
        created_at=content.created_at,
        progress_s=progress,
    )


def catalogs(conn: sqlite3.Connection) -> list[CatalogSummary]:
    """Brands in their sort order, with their series and visible episodes counted."""
    series_count = dict(
        conn.execute("SELECT catalog_id, count(*) FROM series GROUP BY catalog_id").fetchall()
    )
    episodes = dict(
        conn.execute(
            "SELECT catalog_id, count(*) FROM content_view WHERE visible AND kind = 'episode' "
            "GROUP BY catalog_id"
        ).fetchall()
    )
    return [
        CatalogSummary(c.id, c.title, series_count.get(c.id, 0), episodes.get(c.id, 0))
        for c in read.catalogs(conn)
    ]


def catalog(conn: sqlite3.Connection, catalog_id: str) -> CatalogSummary | None:
    return next((c for c in catalogs(conn) if c.id == catalog_id), None)


def series_of(conn: sqlite3.Connection, catalog_id: str) -> list[SeriesSummary]:
    """The series of a brand that have visible contents: newest year first, then by their
    sort key."""
    return _series(conn, "s.catalog_id = ?", (catalog_id,))


def series(conn: sqlite3.Connection, series_id: str) -> SeriesSummary | None:
    found = _series(conn, "s.id = ?", (series_id,))
    return found[0] if found else None


def _series(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[SeriesSummary]:
    # A top-level content's series is its own column (the read model's rule), so the series
    # index counts them.
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
        SeriesSummary(
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
    return listing(conn, ContentFilter(series_id=series_id), limit=None)[0]


def listing(
    conn: sqlite3.Connection,
    where: ContentFilter,
    *,
    limit: int | None,
    offset: int = 0,
    after: Sequence[Any] | None = None,
) -> tuple[list[Card], tuple[Any, ...] | None]:
    """Cards of one page of a read-model listing (``catalog.listing.list_contents``) and the key to
    continue after it (None on the last page). ``limit=None``: everything."""
    rows, key = list_contents(conn, where, limit=limit, offset=offset, after=after)
    return cards(conn, [r.id for r in rows]), key


def cards(conn: sqlite3.Connection, content_ids: Sequence[str]) -> list[Card]:
    """Cards for these ids, in the order given (unknown or hidden ids dropped)."""
    if not content_ids:
        return []
    rows = conn.execute(
        f"{_CARD_SQL} WHERE v.id IN (SELECT value FROM json_each(?)) AND v.visible",
        (json.dumps(list(content_ids)),),
    ).fetchall()
    by_id = {r["id"]: _card(r) for r in rows}
    return [by_id[i] for i in content_ids if i in by_id]


def card(conn: sqlite3.Connection, content_id: str) -> Card | None:
    found = cards(conn, [content_id])
    return found[0] if found else None


def _ordered_cards(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Card]:
    """Cards of the content ids ``sql`` selects, in its order. Ordering ids alone first keeps
    the sort narrow (a card's columns are read for the chosen few only)."""
    return cards(conn, [str(r[0]) for r in conn.execute(sql, tuple(params))])


def recently_added(
    conn: sqlite3.Connection, limit: int = 12, *, brands: frozenset[str] | None = None
) -> list[Card]:
    """The newest episodes (of these brands only, when given: per-brand visibility)."""
    only = "" if brands is None else "AND v.catalog_id IN (SELECT value FROM json_each(?)) "
    params: tuple[object, ...] = () if brands is None else (json.dumps(sorted(brands)),)
    return _ordered_cards(
        conn,
        f"SELECT v.id FROM content_view v WHERE v.kind = 'episode' AND v.visible {only}"
        "ORDER BY v.created_at DESC, v.sort_key LIMIT ?",
        (*params, limit),
    )


def brand_rows(conn: sqlite3.Connection, limit: int = 12) -> dict[str, list[Card]]:
    """Each brand's newest episodes (newest year first), in one pass over the catalog."""
    rows = conn.execute(
        "SELECT id, catalog_id FROM (SELECT v.id, v.catalog_id, row_number() OVER ("
        "PARTITION BY v.catalog_id ORDER BY v.year IS NULL, v.year DESC, v.created_at DESC"
        ") AS n FROM content_view v WHERE v.kind = 'episode' AND v.visible) "
        "WHERE n <= ? ORDER BY catalog_id, n",
        (limit,),
    ).fetchall()
    by_id = {c.id: c for c in cards(conn, [str(r[0]) for r in rows])}
    out: dict[str, list[Card]] = {}
    for content_id, catalog_id in rows:
        if content_id in by_id:
            out.setdefault(str(catalog_id), []).append(by_id[content_id])
    return out


def recent_clips(conn: sqlite3.Connection, catalog_id: str | None, limit: int) -> list[Card]:
    """The newest clips (hands and clips cut as their own files), of one brand or all."""
    brand = "AND v.catalog_id = ? " if catalog_id else ""
    return _ordered_cards(
        conn,
        f"SELECT v.id FROM content_view v WHERE v.kind = 'clip' AND v.visible {brand}"
        "ORDER BY v.created_at DESC, v.id LIMIT ?",
        (catalog_id, limit) if catalog_id else (limit,),
    )


def clips_in(conn: sqlite3.Connection, parent_ids: Sequence[str], limit: int) -> list[Card]:
    """The hands of these episodes: episode by episode in the order given, each by start."""
    rows = conn.execute(
        "SELECT v.id, v.parent_id FROM content_view v WHERE v.parent_id IN "
        "(SELECT value FROM json_each(?)) AND v.visible ORDER BY v.start_sec, v.title",
        (json.dumps(list(parent_ids)),),
    ).fetchall()
    rank = {pid: n for n, pid in enumerate(parent_ids)}
    ordered = sorted(rows, key=lambda r: rank.get(r[1], len(rank)))
    return cards(conn, [str(r[0]) for r in ordered[:limit]])


def players_of(conn: sqlite3.Connection, content_id: str) -> list[PlayerRef]:
    """A content's players: winners and featured players first, then by the name shown."""
    links = read.player_links(conn, [content_id]).get(content_id, ())
    return sorted(links, key=lambda p: (p.role == "player", p.label))


def player(conn: sqlite3.Connection, player_id: str) -> read.PlayerRow | None:
    found = read.players(conn, [player_id])
    return found[0] if found else None


def clips_of(conn: sqlite3.Connection, content_id: str) -> list[Card]:
    rows = conn.execute(
        f"{_CARD_SQL} WHERE v.parent_id = ? AND v.visible ORDER BY v.start_sec, v.title",
        (content_id,),
    ).fetchall()
    return [_card(r) for r in rows]


def detail(conn: sqlite3.Connection, content_id: str) -> Detail | None:
    """Everything the content page shows, or None when the id is not a visible content."""
    found = card(conn, content_id)
    content = read.content(conn, content_id)
    if found is None or content is None:
        return None
    played = file_facts.file(conn, content.play_file_id) if content.play_file_id else None
    tags = sorted(
        read.tag_links(conn, [content_id]).get(content_id, ()), key=lambda t: (t.kind, t.name)
    )
    facts = {
        name: content.fact(name) for name in fields.DETAIL_FACTS if content.fact(name) is not None
    }
    # stored values as the page showed them before: 0/1 for booleans
    facts = {k: int(v) if isinstance(v, bool) else v for k, v in facts.items()}
    versions = content.fact("versions") or []
    if versions:
        facts["versions"] = ", ".join(versions)
    parent = card(conn, found.parent_id) if found.parent_id else None
    listed = versions_of(conn, content_id) if content.file_id else []
    return Detail(
        card=found,
        file=played,
        players=players_of(conn, content_id),
        tags=[t.name for t in tags],
        clips=clips_of(conn, content_id),
        parent=parent,
        facts=facts,
        versions=listed if len(listed) > 1 else [],
        duplicate=bool(content.fact("duplicate")),
    )


def playback_file(conn: sqlite3.Connection, content_id: str) -> FileFacts | None:
    """The catalogued file a visible content plays (a clip: its parent's), or None."""
    return file_facts.played_file(conn, content_id)


@dataclass(frozen=True, slots=True)
class SidecarFile:
    """A catalogued non-media file beside a video whose name starts with the video's stem."""

    file_id: str
    path: str
    name: str
    size: int
    mtime: float


def sidecar_files(conn: sqlite3.Connection, source: str, path: str) -> list[SidecarFile]:
    """Active non-media files next to ``path`` named ``<stem>.*`` (the subtitle candidates;
    ``web.tracks.sidecar`` decides which are subtitles). One index range on (source, path)."""
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    rows = conn.execute(
        "SELECT id, path, name, size, mtime FROM files WHERE source = ? AND path > ? "
        "AND path < ? AND status = 'active' AND is_media = 0 ORDER BY path",
        (source, stem + ".", stem + "/"),
    ).fetchall()
    return [SidecarFile(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def sidecar_file(conn: sqlite3.Connection, file_id: str) -> SidecarFile | None:
    r = conn.execute(
        "SELECT id, path, name, size, mtime FROM files WHERE id = ? AND status = 'active' "
        "AND is_media = 0",
        (file_id,),
    ).fetchone()
    return None if r is None else SidecarFile(r[0], r[1], r[2], r[3], r[4])
