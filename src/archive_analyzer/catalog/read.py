"""The catalog's read model: typed, frozen rows of what a content, series, brand, player or
tag is.

The precedence rules (a content's effective brand, series, played file, year, visibility) are
decided once, in the SQL view ``content_view`` (migration 0010, written down in
docs/classification.md "Reading the catalog"); this module maps that view and the plain
tables to rows. Its siblings read the rest of the model the same way: ``catalog/file_facts.py``
a file with its media facts and fixity, and the file a content plays; ``catalog/media.py`` the
``media_info`` table (:class:`~archive_analyzer.catalog.media.MediaInfo`);
``catalog/listing.py`` pages of visible contents. Every reader uses them: the web pages and API
(``web/queries.py``), the search index (``catalog/search_index.py``), the sync
(``sync/load.py``) and playback (``web/playable.py``).

Values in, values out: functions take an open connection and ids and never write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from archive_analyzer.catalog import fields
from archive_analyzer.catalog.db import json_list

# --- rows ------------------------------------------------------------------------------------


class _Named:
    """A player as readers name it (``display_name`` over ``name``)."""

    __slots__ = ()
    name: str
    display_name: str | None

    @property
    def label(self) -> str:
        return self.display_name or self.name


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
class PlayerRow(_Named):
    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    country: str | None
    total_hands: int | None
    total_wins: int | None
    career_earnings: float | None
    wsop_bracelets: int | None


@dataclass(frozen=True, slots=True)
class PlayerRef(_Named):
    """A player linked to a content, with the names readers show and the link's role."""

    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    role: str
    country: str | None = None


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
        return [str(v) for v in json_list(value)]
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


# --- queries ---------------------------------------------------------------------------------

# ``WHERE x IN {ID_SET}`` with ``id_set(ids)`` as its parameter: any number of ids in one
# parameter (SQLite limits the number of parameters, not the length of one).
ID_SET = "(SELECT value FROM json_each(?))"


def id_set(values: Iterable[str]) -> str:
    return json.dumps(list(dict.fromkeys(values)))


def contents(conn: sqlite3.Connection, ids: Iterable[str]) -> list[ContentRow]:
    """The contents with these ids (any status; see ``visible``), in no particular order."""
    rows = conn.execute(f"SELECT * FROM content_view WHERE id IN {ID_SET}", (id_set(ids),))
    return [content_row(r) for r in rows]


def content(conn: sqlite3.Connection, content_id: str) -> ContentRow | None:
    found = contents(conn, [content_id])
    return found[0] if found else None


def catalogs(conn: sqlite3.Connection, ids: Iterable[str] | None = None) -> list[CatalogRow]:
    """Brands (all, or these ids) in their sort order."""
    sql = "SELECT id, title, sort_order FROM catalogs"
    params: tuple[Any, ...] = ()
    if ids is not None:
        sql += f" WHERE id IN {ID_SET}"
        params = (id_set(ids),)
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
    rows = conn.execute(
        f"SELECT {_SERIES_COLUMNS} FROM series WHERE id IN {ID_SET}", (id_set(ids),)
    )
    return [_series_row(r) for r in rows]


def players(conn: sqlite3.Connection, ids: Iterable[str]) -> list[PlayerRow]:
    """The players with these ids, in no particular order."""
    rows = conn.execute(
        "SELECT id, name, display_name, name_kr, country, total_hands, total_wins, "
        f"career_earnings, wsop_bracelets FROM players WHERE id IN {ID_SET}",
        (id_set(ids),),
    )
    return [PlayerRow(*tuple(r)) for r in rows]


Linked = TypeVar("Linked")


def _by_content(
    rows: Iterable[sqlite3.Row], make: Callable[..., Linked]
) -> dict[str, tuple[Linked, ...]]:
    """Rows of (content id, the linked row's columns...) grouped by content, in row order."""
    out: dict[str, list[Linked]] = {}
    for r in rows:
        out.setdefault(str(r[0]), []).append(make(*tuple(r)[1:]))
    return {key: tuple(value) for key, value in out.items()}


def player_links(
    conn: sqlite3.Connection, content_ids: Sequence[str]
) -> dict[str, tuple[PlayerRef, ...]]:
    """Each content's linked players, by name (case-folded key), then id."""
    rows = conn.execute(
        "SELECT cp.content_id, p.id, p.name, p.display_name, p.name_kr, cp.role, p.country "
        "FROM content_players cp JOIN players p ON p.id = cp.player_id "
        f"WHERE cp.content_id IN {ID_SET} ORDER BY cp.content_id, p.name_key, p.id",
        (id_set(content_ids),),
    )
    return _by_content(rows, PlayerRef)


def tag_links(
    conn: sqlite3.Connection, content_ids: Sequence[str]
) -> dict[str, tuple[TagRef, ...]]:
    """Each content's tags, by tag id."""
    rows = conn.execute(
        "SELECT ct.content_id, t.id, t.name, t.kind FROM content_tags ct "
        f"JOIN tags t ON t.id = ct.tag_id WHERE ct.content_id IN {ID_SET} "
        "ORDER BY ct.content_id, t.id",
        (id_set(content_ids),),
    )
    return _by_content(rows, TagRef)


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
