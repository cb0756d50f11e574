"""What a viewer browses: the home rows, a brand's series, a series' episodes, each with the
viewer's own state (watched, progress, My list) and posters; sorting.

Built from the catalog's read side (``web/queries.py``, ``catalog/series_order.py``) and the
web-owned per-user tables (``watching``, ``my_list``); nothing here writes.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from archive_analyzer.catalog import artwork, series_order
from archive_analyzer.web import my_list, queries, visibility, watching
from archive_analyzer.web.accounts import User

# How brand and series pages can be sorted (the first is the default of a brand page; a series
# page defaults to "oldest": its episodes in series order).
SORTS = ("newest", "oldest", "title", "played")
ROW = 12  # tiles in a home row


@dataclass(frozen=True, slots=True)
class SeriesTile:
    """A series as a tile: poster, title, how many episodes the viewer has left."""

    series: queries.SeriesSummary
    poster_url: str
    progress: watching.SeriesProgress
    on_list: bool = False
    last_played: str | None = None

    @property
    def id(self) -> str:
        return self.series.id

    @property
    def kind(self) -> str:
        return "series"


@dataclass(frozen=True, slots=True)
class Home:
    continue_watching: list[queries.Card]
    my_list: list[queries.Card | SeriesTile]
    recent: list[queries.Card]
    clips: list[queries.Card]
    brands: list[tuple[queries.CatalogSummary, list[queries.Card]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SeriesPage:
    series: queries.SeriesSummary
    poster_url: str
    episodes: list[queries.Card]
    clips: list[queries.Card]
    progress: watching.SeriesProgress
    on_list: bool
    has_artwork: bool


def sort_of(value: str | None, default: str) -> str:
    return value if value in SORTS else default


def personal(
    conn: sqlite3.Connection, user_id: str, cards: Sequence[queries.Card]
) -> list[queries.Card]:
    """The cards with the viewer's state: watched, where to resume, on My list."""
    ids = [c.id for c in cards]
    states = watching.states(conn, user_id, ids)
    listed = my_list.holding(conn, user_id, "content", ids)
    return [
        dataclasses.replace(
            c,
            watched=states.get(c.id, watching.State()).watched,
            progress_s=states.get(c.id, watching.State()).position_s,
            on_list=c.id in listed,
        )
        for c in cards
    ]


def poster_url(kind: str, owner_id: str, version: str | None) -> str:
    """A poster's URL; ``version`` (the artwork's update time) changes it when an editor
    chooses a new one, so browsers do not keep showing the old one."""
    path = f"/poster/{'brand' if kind == 'catalog' else 'series'}/{owner_id}"
    return f"{path}?v={version.replace(':', '').replace('-', '')}" if version else path


def series_tiles(
    conn: sqlite3.Connection, user_id: str, rows: Sequence[queries.SeriesSummary]
) -> list[SeriesTile]:
    ids = [r.id for r in rows]
    progress = watching.series_progress(conn, user_id, ids)
    listed = my_list.holding(conn, user_id, "series", ids)
    played = watching.series_last_played(conn, user_id, ids)
    versions = artwork.stamp(conn, "series", ids)
    return [
        SeriesTile(
            r,
            poster_url("series", r.id, versions.get(r.id)),
            progress.get(r.id, watching.SeriesProgress(r.episode_count, 0)),
            r.id in listed,
            played.get(r.id),
        )
        for r in rows
    ]


def sort_series(tiles: list[SeriesTile], sort: str) -> list[SeriesTile]:
    """Newest (the catalog's order: newest year first), oldest, title, or date played (last
    played first, never played after, newest first among them)."""
    if sort == "oldest":
        return sorted(tiles, key=lambda s: (s.series.year is None, s.series.year or 0))
    if sort == "title":
        return sorted(tiles, key=lambda s: s.series.title.casefold())
    if sort == "played":
        played = sorted((s for s in tiles if s.last_played), key=lambda s: s.last_played or "")
        return [*reversed(played), *(s for s in tiles if not s.last_played)]
    return list(tiles)


def sort_contents(
    conn: sqlite3.Connection, user_id: str, cards: list[queries.Card], sort: str
) -> list[queries.Card]:
    """A series' contents: oldest = series order, newest = its reverse, title, date played."""
    if sort == "newest":
        return list(reversed(cards))
    if sort == "title":
        return sorted(cards, key=lambda c: c.title.casefold())
    if sort == "played":
        played = watching.last_played(conn, user_id, [c.id for c in cards])
        seen = sorted((c for c in cards if c.id in played), key=lambda c: played[c.id])
        return [*reversed(seen), *(c for c in cards if c.id not in played)]
    return cards


def home(conn: sqlite3.Connection, user: User) -> Home:
    """The home rows of ``user``: only brands they may see (``web/visibility.py``)."""
    limit = visibility.limit_of(user)
    rows = queries.brand_rows(conn, ROW)
    brands = [
        (row, personal(conn, user.id, rows.get(row.id, [])))
        for row in visibility.keep(user, queries.catalogs(conn), "id")
        if row.content_count
    ]
    started = visibility.keep(
        user, queries.cards(conn, watching.in_progress(conn, user.id, ROW * 2))
    )
    clips = visibility.keep(user, queries.recent_clips(conn, None, ROW * 2))
    return Home(
        continue_watching=personal(conn, user.id, started[:ROW]),
        my_list=list_row(conn, user),
        recent=personal(conn, user.id, queries.recently_added(conn, ROW, brands=limit)),
        clips=personal(conn, user.id, clips[:ROW]),
        brands=brands,
    )


def list_row(conn: sqlite3.Connection, user: User) -> list[queries.Card | SeriesTile]:
    """My list, newest addition first: content cards and series tiles (hidden ones left out)."""
    entries = my_list.entries(conn, user.id)
    content_ids = [e.content_id for e in entries if e.content_id]
    cards = {
        c.id: c
        for c in personal(conn, user.id, visibility.keep(user, queries.cards(conn, content_ids)))
    }
    rows = [queries.series(conn, e.series_id) for e in entries if e.series_id]
    shown = visibility.keep(user, [r for r in rows if r is not None])
    tiles = {tile.id: tile for tile in series_tiles(conn, user.id, shown)}
    out: list[queries.Card | SeriesTile] = []
    for e in entries:
        item = cards.get(e.content_id or "") or tiles.get(e.series_id or "")
        if item is not None:
            out.append(item)
    return out


def brand_series(
    conn: sqlite3.Connection, user_id: str, catalog_id: str, sort: str
) -> list[SeriesTile]:
    return sort_series(series_tiles(conn, user_id, queries.series_of(conn, catalog_id)), sort)


def series_page(
    conn: sqlite3.Connection, user_id: str, row: queries.SeriesSummary, sort: str
) -> SeriesPage:
    ordered = personal(conn, user_id, queries.cards(conn, series_order.series_ids(conn, row.id)))
    episodes = [c for c in ordered if c.kind == "episode"]
    own_clips = [c for c in ordered if c.kind != "episode"]
    hands = personal(conn, user_id, queries.clips_in(conn, [c.id for c in episodes], 48))
    tile = series_tiles(conn, user_id, [row])[0]
    return SeriesPage(
        series=row,
        poster_url=tile.poster_url,
        episodes=sort_contents(conn, user_id, episodes, sort),
        clips=[*own_clips, *hands],
        progress=tile.progress,
        on_list=tile.on_list,
        has_artwork=artwork.get(conn, "series", row.id) is not None,
    )
