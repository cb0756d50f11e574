"""Catalog search: an FTS5 trigram index over contents, with 초성 and short-query fallbacks.

Documents (one per active content) hold the title, the series and brand, the players (name,
display name, Korean name), the tags, the file name and the 초성 of the Korean player names and
title. Migration 0006 queues changed content ids in ``search_dirty`` by triggers; ``refresh``
re-renders exactly those before a search, ``rebuild`` redoes the whole index.

Query language: words are ANDed. A word of 3+ characters is an FTS5 phrase (trigram: any
substring, Korean included, case-insensitive); a word of 1-2 characters (below the trigram
size) is a substring test on the document's casefolded haystack; a word made only of Hangul
consonants (``ㄴㄱㄹㅇㄴ``) is looked up in the 초성 column. Results are ranked by bm25 with
per-column weights (title first).
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from archive_analyzer.catalog.db import transaction
from archive_analyzer.web.hangul import choseong, is_choseong_query

# bm25 weights, in the column order of search_index:
# title, series, players, tags, file_name, choseong
_WEIGHTS = (10.0, 4.0, 6.0, 2.0, 1.0, 5.0)
_MAX_TERMS = 8
_MAX_QUERY_CHARS = 200
_BATCH = 500


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a user asked for: text plus optional filters; ``page`` counts from 1."""

    text: str = ""
    catalog_id: str | None = None
    year: int | None = None
    player_id: str | None = None
    page: int = 1
    per_page: int = 24


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of ranked content ids and the total number of matches."""

    content_ids: list[str]
    total: int
    page: int
    per_page: int
    years: list[int] = field(default_factory=list)
    players: list[tuple[str, str, int]] = field(default_factory=list)  # id, name, hits

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def normalize_text(text: str) -> str:
    """NFC (Korean typed on macOS arrives as NFD), casefolded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass(frozen=True, slots=True)
class _Plan:
    fts: str | None  # an FTS5 MATCH expression
    likes: list[str]  # substrings the haystack must contain


def plan(text: str) -> _Plan:
    """Split a user query into the FTS5 expression and the short-word substring tests (pure)."""
    words = normalize_text(text[:_MAX_QUERY_CHARS]).split()[:_MAX_TERMS]
    phrases: list[str] = []
    likes: list[str] = []
    for word in words:
        if len(word) < 3:
            likes.append(word)
            continue
        quoted = '"' + word.replace('"', '""') + '"'
        phrases.append(f"choseong : {quoted}" if is_choseong_query(word) else quoted)
    return _Plan(" AND ".join(phrases) if phrases else None, likes)


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(conn: sqlite3.Connection, query: SearchQuery, *, facets: bool = False) -> SearchPage:
    """Run ``query`` over the index (refreshing queued documents first).

    Returns a page of content ids ranked best first. Without text, filters alone list contents
    in catalog order; with neither, the page is empty. ``facets`` adds the years and the most
    frequent players of the whole match set (for the filter controls).
    """
    refresh(conn)
    page = max(1, query.page)
    per_page = max(1, min(100, query.per_page))
    search_plan = plan(query.text)
    if search_plan.fts is None and not search_plan.likes and not _has_filters(query):
        return SearchPage([], 0, page, per_page)
    where: list[str] = []
    params: list[object] = []
    if search_plan.fts is not None:
        source = "search_index JOIN search_docs d ON d.rowid = search_index.rowid"
        where.append("search_index MATCH ?")
        params.append(search_plan.fts)
        weights = ", ".join(str(w) for w in _WEIGHTS)
        order = f"bm25(search_index, {weights}), d.kind, d.sort_key"
    else:
        source = "search_docs d"
        order = "d.kind, d.year DESC, d.sort_key"
    for word in search_plan.likes:
        where.append("d.haystack LIKE ? ESCAPE '\\'")
        params.append(_like_pattern(word))
    if query.catalog_id:
        where.append("d.catalog_id = ?")
        params.append(query.catalog_id)
    if query.year is not None:
        where.append("d.year = ?")
        params.append(query.year)
    if query.player_id:
        where.append(
            "EXISTS (SELECT 1 FROM content_players cp "
            "WHERE cp.content_id = d.content_id AND cp.player_id = ?)"
        )
        params.append(query.player_id)
    clause = " AND ".join(where) if where else "1"
    rows = conn.execute(
        f"SELECT d.content_id FROM {source} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, per_page, (page - 1) * per_page],
    ).fetchall()
    ids = [row[0] for row in rows]
    if page == 1 and len(ids) < per_page:
        total = len(ids)
    else:
        total = int(
            conn.execute(f"SELECT count(*) FROM {source} WHERE {clause}", params).fetchone()[0]
        )
    years: list[int] = []
    players: list[tuple[str, str, int]] = []
    if facets and total:
        matched = f"SELECT d.content_id, d.year FROM {source} WHERE {clause}"
        years = [
            int(r[0])
            for r in conn.execute(
                f"SELECT DISTINCT m.year FROM ({matched}) m WHERE m.year IS NOT NULL "
                "ORDER BY m.year DESC",
                params,
            )
        ]
        players = [
            (r[0], r[1], int(r[2]))
            for r in conn.execute(
                f"SELECT p.id, coalesce(p.display_name, p.name), count(*) AS n FROM ({matched}) m "
                "JOIN content_players cp ON cp.content_id = m.content_id "
                "JOIN players p ON p.id = cp.player_id GROUP BY p.id ORDER BY n DESC, 2 LIMIT 30",
                params,
            )
        ]
    return SearchPage(ids, total, page, per_page, years, players)


def _has_filters(query: SearchQuery) -> bool:
    return bool(query.catalog_id or query.year is not None or query.player_id)


# --- keeping the index current ---------------------------------------------------------------


def refresh(conn: sqlite3.Connection) -> int:
    """Re-render the documents of queued contents; returns how many ids were processed.

    Cheap when nothing is queued (one indexed read). Safe to run from several processes: the
    queue is read and emptied inside one write transaction.
    """
    if conn.execute("SELECT 1 FROM search_dirty LIMIT 1").fetchone() is None:
        return 0
    done = 0
    with transaction(conn):
        ids = [row[0] for row in conn.execute("SELECT content_id FROM search_dirty")]
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            _reindex(conn, batch)
            conn.execute(
                "DELETE FROM search_dirty WHERE content_id IN (SELECT value FROM json_each(?))",
                (json.dumps(batch),),
            )
            done += len(batch)
    return done


def rebuild(conn: sqlite3.Connection) -> int:
    """Drop every document and index all contents again; returns the number of contents."""
    with transaction(conn):
        conn.execute("DELETE FROM search_docs")
        conn.execute("DELETE FROM search_index")
        conn.execute("INSERT OR IGNORE INTO search_dirty (content_id) SELECT id FROM contents")
    return refresh(conn)


def _reindex(conn: sqlite3.Connection, content_ids: Sequence[str]) -> None:
    ids_json = json.dumps(list(content_ids))
    old = conn.execute(
        "SELECT rowid FROM search_docs WHERE content_id IN (SELECT value FROM json_each(?))",
        (ids_json,),
    ).fetchall()
    for (rowid,) in old:
        conn.execute("DELETE FROM search_index WHERE rowid = ?", (rowid,))
    conn.execute(
        "DELETE FROM search_docs WHERE content_id IN (SELECT value FROM json_each(?))",
        (ids_json,),
    )
    players: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for row in conn.execute(
        "SELECT cp.content_id, p.name, p.display_name, p.name_kr FROM content_players cp "
        "JOIN players p ON p.id = cp.player_id "
        "WHERE cp.content_id IN (SELECT value FROM json_each(?))",
        (ids_json,),
    ):
        players.setdefault(row[0], []).append((row[1], row[2], row[3]))
    tags: dict[str, list[str]] = {}
    for row in conn.execute(
        "SELECT ct.content_id, t.id, t.name FROM content_tags ct JOIN tags t ON t.id = ct.tag_id "
        "WHERE ct.content_id IN (SELECT value FROM json_each(?))",
        (ids_json,),
    ):
        tags.setdefault(row[0], []).extend(dict.fromkeys([row[2], row[1]]))
    rows = conn.execute(
        "SELECT c.id, c.kind, c.title, c.event_name, c.buy_in, c.sort_key, "
        "coalesce(c.catalog_id, s.catalog_id, pc.catalog_id) AS catalog_id, "
        "coalesce(c.year, s.year, pc.year) AS year, "
        "s.title AS series_title, s.sub_brand, s.location, cat.title AS catalog_title, "
        "f.name AS file_name, pc.title AS parent_title "
        "FROM contents c "
        "LEFT JOIN contents pc ON pc.id = c.parent_id "
        "LEFT JOIN series s ON s.id = coalesce(c.series_id, pc.series_id) "
        "LEFT JOIN catalogs cat ON cat.id = coalesce(c.catalog_id, s.catalog_id, pc.catalog_id) "
        "LEFT JOIN files f ON f.id = c.file_id "
        "WHERE c.id IN (SELECT value FROM json_each(?)) AND c.status = 'active' "
        "AND (c.parent_id IS NULL OR pc.status = 'active')",
        (ids_json,),
    ).fetchall()
    for row in rows:
        content_id = row["id"]
        title = _join(row["title"], row["event_name"], row["buy_in"], row["parent_title"])
        series = _join(row["series_title"], row["catalog_title"], row["sub_brand"], row["location"])
        names = [n for triple in players.get(content_id, []) for n in triple if n]
        player_text = _join(*dict.fromkeys(names))
        tag_text = _join(*tags.get(content_id, []))
        file_name = row["file_name"] or ""
        initials = _join(*(choseong(n) for n in names), choseong(row["title"] or ""))
        haystack = normalize_text(
            " | ".join([title, series, player_text, tag_text, file_name, initials])
        )
        cursor = conn.execute(
            "INSERT INTO search_docs (content_id, kind, catalog_id, year, sort_key, haystack) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                content_id,
                row["kind"],
                row["catalog_id"],
                row["year"],
                row["sort_key"] or "",
                haystack,
            ),
        )
        conn.execute(
            "INSERT INTO search_index (rowid, title, series, players, tags, file_name, choseong) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (cursor.lastrowid, title, series, player_text, tag_text, file_name, initials),
        )


def _join(*parts: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", p) for p in parts if p)
