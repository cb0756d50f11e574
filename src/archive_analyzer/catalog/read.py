"""The catalog's read model: typed, frozen rows of what a content, file, series or brand is.

The precedence rules (a content's effective brand, series, played file, year, visibility) are
decided once, in the SQL view ``content_view`` (migration 0010, written down in
docs/classification.md "Reading the catalog"); this module maps that view and the plain
tables to rows. Every reader uses it: the web pages and API (``web/queries.py``), the search
index (``catalog/search_index.py``), the sync (``sync/load.py``) and playback
(``web/playable.py``). ``media_info`` is mapped to one dataclass, :class:`MediaInfo`.

Values in, values out: functions take an open connection and ids and never write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from archive_analyzer.catalog import fields, series_order

# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """One audio stream of a file (an element of ``media_info.audio``)."""

    codec: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
    language: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "codec": self.codec,
            "channels": self.channels,
            "sample_rate": self.sample_rate,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    """One subtitle stream of a file (an element of ``media_info.subtitles``, migration 0050)."""

    codec: str | None = None
    language: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "language": self.language}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """A ``media_info`` row: what the prober found in one file. Field order = column order.

    The only mapping of that table: the prober's results are stored from it
    (``catalog/media.py``), and sync, web and playback read it.
    """

    status: str = "ok"
    container: str | None = None
    format_long_name: str | None = None
    duration_s: float | None = None
    bit_rate: int | None = None
    size: int | None = None
    video_codec: str | None = None
    video_profile: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    pix_fmt: str | None = None
    field_order: str | None = None
    audio: tuple[AudioTrack, ...] = ()
    subtitle_count: int = 0
    creation_time: str | None = None
    error: str | None = None
    bytes_read: int = 0
    reads: int = 0
    strategy: str = ""
    probe_ms: float = 0.0
    browser_playable: bool = False
    probed_size: int | None = None
    probed_mtime: float | None = None
    probed_at: str = ""
    updated_at: str = ""
    timecode: str | None = None  # the source's start timecode label (migration 0030)
    subtitles: tuple[SubtitleTrack, ...] = ()  # codec and language per stream (migration 0050)

    @property
    def audio_codecs(self) -> tuple[str, ...]:
        """The audio codecs in stream order ('' for a stream whose codec is unknown)."""
        return tuple(track.codec or "" for track in self.audio)

    @property
    def resolution(self) -> str | None:
        """``WIDTHxHEIGHT``, or None when either is unknown."""
        if self.width and self.height:
            return f"{self.width}x{self.height}"
        return None

    @property
    def playable(self) -> bool:
        """Whether playback can plan from it: a usable probe with a video stream and a
        duration (direct play, remux or transcode, ``web/hls.py``)."""
        return (
            self.status in ("ok", "incomplete") and bool(self.video_codec) and bool(self.duration_s)
        )


MEDIA_COLUMNS = tuple(f.name for f in dataclass_fields(MediaInfo))


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


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """A brand."""

    id: str
    title: str
    sort_order: int


@dataclass(frozen=True, slots=True)
class SeriesRow:
    id: str
    catalog_id: str
    title: str
    sub_brand: str | None
    location: str | None
    year: int | None
    season: int | None
    sort_key: str


@dataclass(frozen=True, slots=True)
class PlayerRow:
    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    country: str | None
    total_hands: int | None
    total_wins: int | None
    career_earnings: float | None
    wsop_bracelets: int | None

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class PlayerRef:
    """A player linked to a content, with the names readers show and the link's role."""

    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    role: str
    country: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class TagRef:
    id: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class ContentRow:
    """A content as every reader sees it (a ``content_view`` row).

    ``catalog_id``, ``series_id``, ``play_file_id``, ``visible`` and the ``year`` fact are the
    effective values of the read model's rules; ``file_id`` is the file the content owns (None
    for a clip of a range). ``facts`` are ``fields.CONTENT_FACTS`` in order, decoded
    (``versions`` a list, booleans as bool).
    """

    id: str
    kind: str
    status: str
    visible: bool
    title: str
    sort_key: str
    catalog_id: str | None
    series_id: str | None
    file_id: str | None
    play_file_id: str | None
    parent_id: str | None
    start_sec: float | None
    end_sec: float | None
    created_at: str
    updated_at: str
    facts: tuple[tuple[str, Any], ...] = ()

    def fact(self, name: str) -> Any:
        """One of ``fields.CONTENT_FACTS`` (None when unset)."""
        for key, value in self.facts:
            if key == name:
                return value
        if name not in fields.CONTENT_FACTS:
            raise KeyError(name)
        return None

    @property
    def year(self) -> int | None:
        value = self.fact("year")
        return None if value is None else int(value)


# --- mapping ---------------------------------------------------------------------------------


def _decode_fact(name: str, value: Any) -> Any:
    if name in fields.LIST_FACTS:
        try:
            parsed = json.loads(value or "[]")
        except ValueError:
            return []
        return [str(v) for v in parsed] if isinstance(parsed, list) else []
    if name in fields.BOOL_FACTS and value is not None:
        return bool(value)
    return value


def content_row(row: sqlite3.Row) -> ContentRow:
    """Map a row holding ``content_view``'s columns (``SELECT v.* ...``) to a ContentRow."""
    return ContentRow(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        visible=bool(row["visible"]),
        title=row["title"],
        sort_key=row["sort_key"] or "",
        catalog_id=row["catalog_id"],
        series_id=row["series_id"],
        file_id=row["file_id"],
        play_file_id=row["play_file_id"],
        parent_id=row["parent_id"],
        start_sec=row["start_sec"],
        end_sec=row["end_sec"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        facts=tuple((name, _decode_fact(name, row[name])) for name in fields.CONTENT_FACTS),
    )


def _audio(text: str | None) -> tuple[AudioTrack, ...]:
    try:
        parsed = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(parsed, list):
        return ()
    return tuple(
        AudioTrack(
            codec=track.get("codec"),
            channels=track.get("channels"),
            sample_rate=track.get("sample_rate"),
            language=track.get("language"),
        )
        for track in parsed
        if isinstance(track, dict)
    )


def _subtitles(text: str | None) -> tuple[SubtitleTrack, ...]:
    try:
        parsed = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(parsed, list):
        return ()
    return tuple(
        SubtitleTrack(codec=track.get("codec"), language=track.get("language"))
        for track in parsed
        if isinstance(track, dict)
    )


def media_row(row: Mapping[str, Any] | sqlite3.Row, prefix: str = "") -> MediaInfo:
    """Map ``media_info`` columns (named ``prefix`` + column) to a MediaInfo."""
    values: dict[str, Any] = {name: row[prefix + name] for name in MEDIA_COLUMNS}
    values["audio"] = _audio(values["audio"])
    values["subtitles"] = _subtitles(values["subtitles"])
    values["subtitle_count"] = int(values["subtitle_count"] or 0)
    values["browser_playable"] = bool(values["browser_playable"])
    values["bytes_read"] = int(values["bytes_read"] or 0)
    values["reads"] = int(values["reads"] or 0)
    values["probe_ms"] = float(values["probe_ms"] or 0.0)
    return MediaInfo(**values)


def media_values(media: MediaInfo) -> tuple[Any, ...]:
    """The ``media_info`` column values of ``media`` in ``MEDIA_COLUMNS`` order (for writes)."""
    out: list[Any] = []
    for name in MEDIA_COLUMNS:
        value = getattr(media, name)
        if name in ("audio", "subtitles"):
            tracks = media.audio if name == "audio" else media.subtitles
            value = json.dumps([track.as_dict() for track in tracks], ensure_ascii=False)
        elif name == "browser_playable":
            value = int(value)
        out.append(value)
    return tuple(out)


# --- queries ---------------------------------------------------------------------------------

_IDS = "(SELECT value FROM json_each(?))"
_MEDIA_SELECT = ", ".join(f"m.{name} AS m_{name}" for name in MEDIA_COLUMNS)
_FILE_SQL = (
    "SELECT f.id, f.source, f.path, f.name, f.ext, f.size, f.mtime, f.status, f.is_media, "
    f"f.probe_state, f.first_seen, m.id AS m_id, {_MEDIA_SELECT}, "
    # a hash counts only for the version it was taken of
    "CASE WHEN h.size = f.size AND abs(h.mtime - f.mtime) <= 1e-6 THEN h.xxh128 END AS h_xxh, "
    "CASE WHEN h.size = f.size AND abs(h.mtime - f.mtime) <= 1e-6 AND h.xxh128 IS NOT NULL "
    "THEN h.status END AS h_fixity "
    "FROM files f LEFT JOIN media_info m ON m.id = f.id LEFT JOIN file_hashes h ON h.file = f.id"
)


def _ids(values: Iterable[str]) -> str:
    return json.dumps(list(dict.fromkeys(values)))


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


def contents(conn: sqlite3.Connection, ids: Iterable[str]) -> list[ContentRow]:
    """The contents with these ids (any status; see ``visible``), in no particular order."""
    rows = conn.execute(f"SELECT * FROM content_view WHERE id IN {_IDS}", (_ids(ids),))
    return [content_row(r) for r in rows]


def content(conn: sqlite3.Connection, content_id: str) -> ContentRow | None:
    found = contents(conn, [content_id])
    return found[0] if found else None


def files(conn: sqlite3.Connection, ids: Iterable[str]) -> list[FileFacts]:
    """The files with these ids and their media facts, in no particular order."""
    rows = conn.execute(f"{_FILE_SQL} WHERE f.id IN {_IDS}", (_ids(ids),))
    return [_file_row(r) for r in rows]


def file(conn: sqlite3.Connection, file_id: str) -> FileFacts | None:
    found = files(conn, [file_id])
    return found[0] if found else None


def media_info(conn: sqlite3.Connection, file_id: str) -> MediaInfo | None:
    """The media facts of one file, or None when it was never probed."""
    row = conn.execute(
        f"SELECT {', '.join(MEDIA_COLUMNS)} FROM media_info WHERE id = ?", (file_id,)
    ).fetchone()
    return None if row is None else media_row(row)


def played_file(conn: sqlite3.Connection, content_id: str) -> FileFacts | None:
    """The file a visible content plays (a clip of a parent: the parent's), unless that file
    is deleted; None otherwise. The only way a request reaches a file."""
    row = conn.execute(
        f"{_FILE_SQL} JOIN content_view v ON v.play_file_id = f.id "
        "WHERE v.id = ? AND v.visible AND f.status != 'deleted'",
        (content_id,),
    ).fetchone()
    return None if row is None else _file_row(row)


def catalogs(conn: sqlite3.Connection, ids: Iterable[str] | None = None) -> list[CatalogRow]:
    """Brands (all, or these ids) in their sort order."""
    sql = "SELECT id, title, sort_order FROM catalogs"
    params: tuple[Any, ...] = ()
    if ids is not None:
        sql += f" WHERE id IN {_IDS}"
        params = (_ids(ids),)
    rows = conn.execute(f"{sql} ORDER BY sort_order, title", params)
    return [CatalogRow(r["id"], r["title"], int(r["sort_order"])) for r in rows]


_SERIES_COLUMNS = "id, catalog_id, title, sub_brand, location, year, season, sort_key"


def _series_row(r: sqlite3.Row) -> SeriesRow:
    return SeriesRow(
        r["id"],
        r["catalog_id"],
        r["title"],
        r["sub_brand"],
        r["location"],
        r["year"],
        r["season"],
        r["sort_key"],
    )


def series(conn: sqlite3.Connection, ids: Iterable[str]) -> list[SeriesRow]:
    """The series with these ids, in no particular order."""
    rows = conn.execute(f"SELECT {_SERIES_COLUMNS} FROM series WHERE id IN {_IDS}", (_ids(ids),))
    return [_series_row(r) for r in rows]


def players(conn: sqlite3.Connection, ids: Iterable[str]) -> list[PlayerRow]:
    """The players with these ids, in no particular order."""
    rows = conn.execute(
        "SELECT id, name, display_name, name_kr, country, total_hands, total_wins, "
        f"career_earnings, wsop_bracelets FROM players WHERE id IN {_IDS}",
        (_ids(ids),),
    )
    return [PlayerRow(*tuple(r)) for r in rows]


def player_links(
    conn: sqlite3.Connection, content_ids: Sequence[str]
) -> dict[str, tuple[PlayerRef, ...]]:
    """Each content's linked players, by name (case-folded key), then id."""
    out: dict[str, list[PlayerRef]] = {}
    for r in conn.execute(
        "SELECT cp.content_id, p.id, p.name, p.display_name, p.name_kr, cp.role, p.country "
        "FROM content_players cp JOIN players p ON p.id = cp.player_id "
        f"WHERE cp.content_id IN {_IDS} ORDER BY cp.content_id, p.name_key, p.id",
        (_ids(content_ids),),
    ):
        out.setdefault(str(r[0]), []).append(PlayerRef(*tuple(r)[1:]))
    return {key: tuple(value) for key, value in out.items()}


def tag_links(
    conn: sqlite3.Connection, content_ids: Sequence[str]
) -> dict[str, tuple[TagRef, ...]]:
    """Each content's tags, by tag id."""
    out: dict[str, list[TagRef]] = {}
    for r in conn.execute(
        "SELECT ct.content_id, t.id, t.name, t.kind FROM content_tags ct "
        f"JOIN tags t ON t.id = ct.tag_id WHERE ct.content_id IN {_IDS} "
        "ORDER BY ct.content_id, t.id",
        (_ids(content_ids),),
    ):
        out.setdefault(str(r[0]), []).append(TagRef(*tuple(r)[1:]))
    return {key: tuple(value) for key, value in out.items()}


def named_links(
    conn: sqlite3.Connection, content_id: str
) -> tuple[tuple[PlayerRef, ...], tuple[str, ...]]:
    """One content's players (by name, with their link's role) and tag names (by name), as a
    hand is shown: the marking panel and the exported edit lists read them here."""
    players = conn.execute(
        "SELECT p.id, p.name, p.display_name, p.name_kr, cp.role, p.country "
        "FROM content_players cp JOIN players p ON p.id = cp.player_id "
        "WHERE cp.content_id = ? ORDER BY p.name",
        (content_id,),
    )
    tags = conn.execute(
        "SELECT t.name FROM content_tags ct JOIN tags t ON t.id = ct.tag_id "
        "WHERE ct.content_id = ? ORDER BY t.name",
        (content_id,),
    )
    return tuple(PlayerRef(*tuple(r)) for r in players), tuple(str(r[0]) for r in tags)


# --- listing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentFilter:
    """Which visible contents a listing holds. ``series_id`` lists a series' own contents
    (episodes and own-file clips) in series order (``series_order.ORDER``); otherwise the
    listing is newest first (``created_at``, then id). Every condition narrows."""

    catalog_id: str | None = None
    series_id: str | None = None
    year: int | None = None
    kind: str | None = None
    brands: frozenset[str] | None = None  # only contents of these brands (None: every brand)


# A listing's order and the key a cursor continues from ("keyset" paging: rows added or
# removed before the cursor never shift the pages after it).
_NEWEST = ("v.created_at", "v.id")
_EPISODE_ORDER = series_order.ORDER  # (year, event, day, part, episode, title: series_order)


def _listing(where: ContentFilter) -> tuple[str, str, list[Any], tuple[str, ...], bool]:
    """(FROM clause, WHERE clause, params, order columns, descending) of a listing."""
    conditions = ["v.visible"]
    params: list[Any] = []
    source = "content_view v"
    if where.series_id is not None:
        # A top-level content's effective series is its own column, so the series index
        # answers (content_view's series_id is an expression no index covers).
        source = "contents c JOIN content_view v ON v.id = c.id"
        conditions += ["c.series_id = ?", "c.parent_id IS NULL"]
        params.append(where.series_id)
    if where.catalog_id is not None:
        conditions.append("v.catalog_id = ?")
        params.append(where.catalog_id)
    if where.year is not None:
        conditions.append("v.year = ?")
        params.append(where.year)
    if where.kind is not None:
        conditions.append("v.kind = ?")
        params.append(where.kind)
    if where.brands is not None:
        conditions.append("v.catalog_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(where.brands)))
    if where.series_id is not None:
        return source, " AND ".join(conditions), params, _EPISODE_ORDER, False
    return source, " AND ".join(conditions), params, _NEWEST, True


def count_contents(conn: sqlite3.Connection, where: ContentFilter) -> int:
    """How many visible contents ``where`` lists."""
    source, condition, params, _, _ = _listing(where)
    return int(
        conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}", params).fetchone()[0]
    )


def list_contents(
    conn: sqlite3.Connection,
    where: ContentFilter,
    *,
    limit: int | None,
    offset: int = 0,
    after: Sequence[Any] | None = None,
) -> tuple[list[ContentRow], tuple[Any, ...] | None]:
    """One page of the listing: up to ``limit`` rows (None: all) after the key ``after`` (a
    key this function returned) or, without one, after ``offset`` rows. Returns the rows and
    the key of the last one when more follow (None on the last page)."""
    source, condition, params, order, descending = _listing(where)
    if after is not None:
        if len(after) != len(order):
            raise ValueError("cursor does not fit this listing")
        # Row values compare column by column: the rows strictly past the last one shown.
        columns = ", ".join(order)
        marks = ", ".join("?" for _ in order)
        condition += f" AND ({columns}) {'<' if descending else '>'} ({marks})"
        params = [*params, *after]
        offset = 0
    direction = " DESC" if descending else ""
    ordering = ", ".join(f"{column}{direction}" for column in order)
    # the order's values, for the cursor (they may be expressions, not columns)
    keys = ", ".join(f"{column} AS _order_{n}" for n, column in enumerate(order))
    # one row more than asked tells whether another page follows (-1: SQLite's "no limit")
    rows = conn.execute(
        f"SELECT v.*, {keys} FROM {source} WHERE {condition} ORDER BY {ordering} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit + 1, max(0, offset)],
    ).fetchall()
    if limit is None:
        return [content_row(r) for r in rows], None
    page = [content_row(r) for r in rows[:limit]]
    if len(rows) <= limit or not page:
        return page, None
    last = rows[limit - 1]
    return page, tuple(last[f"_order_{n}"] for n in range(len(order)))
