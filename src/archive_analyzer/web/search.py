"""Catalog search: an FTS5 trigram index over contents, with 초성 and short-query fallbacks.

Documents (one per visible content) hold the title, the series and brand, the players (name,
display name, Korean name), the tags, the file name and the 초성 of the Korean player names and
title. The catalog's writers keep them current in their own transactions
(``catalog/search_index.py``); this module only reads them.

Query language: words are ANDed. A word of 3+ characters is an FTS5 phrase (trigram: any
substring, Korean included, case-insensitive); a word made only of Hangul consonants
(``ㄴㄱㄹㅇㄴ``) is looked up in the 초성 column; a word of 1-2 characters (below the trigram
size) is a token of ``search_grams``, a second FTS5 index holding every character and
character pair of each word. Ranking: the whole query in a content's own title first, then
every word in the title, some, none (found through series, players...), then newest. Typo
tolerance: a word of 5+ letters that no document holds matches the index's vocabulary words one
edit away (two from 9 letters, ``web/spelling.py``). See docs/web.md for why and the measured
latencies.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from archive_analyzer.catalog.hangul import is_choseong_query
from archive_analyzer.catalog.search_index import is_word, normalize_text
from archive_analyzer.web import spelling

_MAX_TERMS = 8
_MAX_QUERY_CHARS = 200
# Ranking looks at the newest CANDIDATES matches at most (more: "1000+", refine with filters).
CANDIDATES = 1000
# A filter set this small drives the search itself (its documents' text is checked directly).
VERIFY_MAX = 5000
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a user asked for: text plus optional filters; ``page`` counts from 1. ``start``
    (an offset into the ranked results, from an API cursor) replaces ``page`` when set."""

    text: str = ""
    catalog_id: str | None = None
    year: int | None = None
    player_id: str | None = None
    page: int = 1
    per_page: int = 24
    start: int | None = None
    # per-brand visibility (web/visibility.py): only these brands' contents; None = all
    visible: frozenset[str] | None = None
    # no typo tolerance: every word as typed
    exact: bool = False


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of ranked content ids and the number of matches.

    ``total`` is exact up to ``CANDIDATES``; ``capped`` says there are more (the pages reach
    the ``CANDIDATES`` best matches; filters narrow further).
    """

    content_ids: list[str]
    total: int
    page: int
    per_page: int
    years: list[int] = field(default_factory=list)
    players: list[tuple[str, str, int]] = field(default_factory=list)  # id, name, hits
    capped: bool = False
    start: int = 0  # offset of the first result of this page in the ranked results
    # the query as it was searched when words were corrected (typo tolerance), else None
    corrected: str | None = None
    # nothing found: a query that finds something, else None ("did you mean")
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def next_start(self) -> int | None:
        """The offset of the page after this one, None on the last page."""
        following = self.start + self.per_page
        return following if following < self.total else None


@dataclass(frozen=True, slots=True)
class _Plan:
    phrases: list[str]  # one FTS5 expression per word of 3+ characters
    fts: str | None  # those ANDed
    grams: str | None  # FTS5 expression over search_grams (1-2 character words)
    literals: list[str]  # short words without letters or digits: plain substring tests
    words: list[str]  # every normalised word, as typed
    # per word, the texts of which one must be in a document: the word itself, or for a word
    # found nowhere, the vocabulary words it may have meant (typo tolerance)
    alternatives: list[tuple[str, ...]] = field(default_factory=list)


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def words_of_query(text: str) -> list[str]:
    """The normalised words of a query, at most ``_MAX_TERMS`` of ``_MAX_QUERY_CHARS``."""
    return normalize_text(text[:_MAX_QUERY_CHARS]).split()[:_MAX_TERMS]


def plan(text: str, corrections: Mapping[str, Sequence[str]] | None = None) -> _Plan:
    """Split a user query into index lookups (pure); words are ANDed. A word with
    ``corrections`` matches any of them instead of itself."""
    words = words_of_query(text)
    fixes = corrections or {}
    phrases: list[str] = []
    short: list[str] = []
    literals: list[str] = []
    alternatives: list[tuple[str, ...]] = []
    for word in words:
        options = tuple(fixes.get(word) or (word,))
        alternatives.append(options)
        if len(word) >= 3:
            if is_choseong_query(word):
                phrases.append(f"choseong : {_quote(word)}")
            elif len(options) == 1:
                phrases.append(_quote(options[0]))
            else:
                phrases.append("(" + " OR ".join(_quote(o) for o in options) + ")")
        elif is_word(word):
            short.append(_quote(word))
        else:
            literals.append(word)
    return _Plan(
        phrases,
        " AND ".join(phrases) or None,
        " AND ".join(short) or None,
        literals,
        words,
        alternatives,
    )


def _correctable(word: str) -> bool:
    """Words typo tolerance looks at: long enough, letters only (not 초성, not numbers)."""
    return spelling.allowed_edits(word) > 0 and word.isalpha() and not is_choseong_query(word)


def _occurs(conn: sqlite3.Connection, word: str) -> bool:
    """Whether any document holds ``word`` (as any part of its text)."""
    found = conn.execute(
        "SELECT 1 FROM search_index WHERE search_index MATCH ? LIMIT 1", (_quote(word),)
    ).fetchone()
    return found is not None


def corrections(
    conn: sqlite3.Connection, words: Sequence[str], vocabulary: spelling.Vocabulary
) -> dict[str, tuple[str, ...]]:
    """For each word of 5+ letters that no document holds, the vocabulary words it may have
    meant (closest and most used first; none: the word stays as typed)."""
    found: dict[str, tuple[str, ...]] = {}
    terms: spelling.Terms | None = None
    for word in dict.fromkeys(words):
        if not _correctable(word) or _occurs(conn, word):
            continue
        terms = terms or vocabulary.terms(conn)
        near = terms.near(word, spelling.allowed_edits(word))
        if near:
            found[word] = tuple(near[:3])
    return found


def search(
    conn: sqlite3.Connection,
    query: SearchQuery,
    *,
    facets: bool = False,
    vocabulary: spelling.Vocabulary | None = None,
) -> SearchPage:
    """Run ``query`` over the index (read only: the catalog's writers keep it current,
    ``catalog/search_index.py``).

    Typo tolerance (with a ``vocabulary``, unless ``query.exact``): a word of 5+ letters that no
    document holds is replaced by the vocabulary words within one edit of it (two for 9+
    letters); the page then carries the query as searched (``corrected``). When nothing is
    found, ``suggestion`` is a query that finds something, if there is one close by.

    The most selective part of the query (a narrow filter, the FTS5 phrases, the short words)
    yields candidates newest first, the rest is verified on each candidate's row, and the first
    ``CANDIDATES`` matches are ranked (``_rank``): the whole query in the title first, then every
    word in the title, some, none (found through the series, players, tags or file name), then
    newest. Without text, filters alone list contents; with neither, the page is empty.
    ``facets`` adds the years and the most frequent players among the candidates.
    """
    per_page = max(1, min(100, query.per_page))
    page = max(1, query.page)
    start = (page - 1) * per_page
    if query.start is not None:
        start = max(0, query.start)
        page = start // per_page + 1
    words = words_of_query(query.text)
    fixes = corrections(conn, words, vocabulary) if vocabulary and not query.exact else {}
    search_plan = plan(query.text, fixes)
    nothing = search_plan.fts is None and search_plan.grams is None and not search_plan.literals
    asked = query.catalog_id or query.year is not None or query.player_id
    if nothing and not asked:  # the visibility limit alone is no question
        return SearchPage([], 0, page, per_page, start=start)
    matches, capped = _candidates(conn, search_plan, query)
    ranked = _rank(conn, matches, search_plan)
    total = len(ranked)
    ids = _content_ids(conn, ranked[start : start + per_page])
    years: list[int] = []
    players: list[tuple[str, str, int]] = []
    if facets and ranked:
        years, players = _facets(conn, ranked)
    corrected = " ".join(fixes[w][0] if w in fixes else w for w in words) if fixes else None
    suggestion = None
    if not ranked and vocabulary is not None and words:
        suggestion = _suggest(conn, query, words, vocabulary)
    return SearchPage(
        ids, total, page, per_page, years, players, capped, start, corrected, suggestion
    )


def _suggest(
    conn: sqlite3.Connection,
    query: SearchQuery,
    words: Sequence[str],
    vocabulary: spelling.Vocabulary,
) -> str | None:
    """Nothing was found: the query with each word that no document holds replaced by its
    closest vocabulary word (words of 3+ letters, one edit; 5+ as the correction allows), if
    that query finds something."""
    terms = vocabulary.terms(conn)
    changed = False
    better: list[str] = []
    for word in words:
        edits = spelling.allowed_edits(word, loose=True)
        near = (
            []
            if not edits or not word.isalpha() or _occurs(conn, word)
            else terms.near(word, edits)
        )
        changed = changed or bool(near)
        better.append(near[0] if near else word)
    if not changed:
        return None
    text = " ".join(better)
    found, _ = _candidates(conn, plan(text), dataclasses.replace(query, text=text), limit=1)
    return text if found else None


def matching_ids(
    conn: sqlite3.Connection,
    text: str,
    limit: int = 500,
    visible: frozenset[str] | None = None,
) -> list[str]:
    """The content ids a text search finds, in rank order (the first ``limit``; only brands
    in ``visible`` when given): what an export of a search's results covers."""
    found: list[str] = []
    page = 1
    while len(found) < limit:
        query = SearchQuery(text=text, page=page, per_page=100, visible=visible)
        result = search(conn, query)
        found.extend(result.content_ids)
        if page >= result.pages or not result.content_ids:
            break
        page += 1
    return found[:limit]


def _filters(query: SearchQuery) -> tuple[str, list[object]] | None:
    """The filters as a SQL condition on ``search_docs d`` with its parameters, or None."""
    where: list[str] = []
    params: list[object] = []
    if query.catalog_id:
        where.append("d.catalog_id = ?")
        params.append(query.catalog_id)
    if query.visible is not None:
        where.append("d.catalog_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(query.visible)))
    if query.year is not None:
        where.append("d.year = ?")
        params.append(query.year)
    if query.player_id:
        where.append(
            "EXISTS (SELECT 1 FROM content_players cp "
            "WHERE cp.content_id = d.content_id AND cp.player_id = ?)"
        )
        params.append(query.player_id)
    return (" AND ".join(where), params) if where else None


def _small_filter_set(
    conn: sqlite3.Connection, query: SearchQuery, condition: tuple[str, list[object]]
) -> list[int] | None:
    """The filtered rowids, newest first, when there are at most ``VERIFY_MAX`` of them."""
    clause, params = condition
    if query.player_id:
        source = (
            "search_docs d JOIN content_players cp0 ON cp0.content_id = d.content_id "
            "AND cp0.player_id = ?"
        )
        params = [query.player_id, *params]
    else:
        source = "search_docs d"
    # no ORDER BY: the (catalog_id, year) index answers without touching other rows
    rows = conn.execute(
        f"SELECT d.rowid FROM {source} WHERE {clause} LIMIT ?", (*params, VERIFY_MAX + 1)
    ).fetchall()
    return None if len(rows) > VERIFY_MAX else sorted((r[0] for r in rows), reverse=True)


def _candidates(
    conn: sqlite3.Connection, search_plan: _Plan, query: SearchQuery, limit: int = CANDIDATES
) -> tuple[list[int], bool]:
    """Up to ``limit`` rowids matching the plan and the filters, newest first.

    Returns them and whether more exist. One part drives (yields rowids newest first): a
    small filter set, else the FTS5 phrases, else the short-word index, else the filters. The
    rest (words, filters) is checked on each candidate's row, chunk by chunk, until enough.
    """
    condition = _filters(query)
    small = _small_filter_set(conn, query, condition) if condition else None
    driver: Iterator[tuple[int]]
    checks = list(zip(search_plan.words, search_plan.alternatives, strict=True))
    if small is not None:
        driver, condition = iter([(r,) for r in small]), None
    elif search_plan.fts:
        driver = conn.execute(
            "SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rowid DESC",
            (search_plan.fts,),
        )
        checks = [(w, a) for w, a in checks if len(w) < 3]
    elif search_plan.grams:
        driver = conn.execute(
            "SELECT rowid FROM search_grams WHERE search_grams MATCH ? ORDER BY rowid DESC",
            (search_plan.grams,),
        )
        checks = [(w, a) for w, a in checks if w in search_plan.literals]
    else:
        driver = conn.execute("SELECT rowid FROM search_docs ORDER BY rowid DESC")
    alternatives = [a for _, a in checks]
    found: list[int] = []
    while len(found) <= limit:
        chunk = [r[0] for r in itertools.islice(driver, _CHUNK)]
        if not chunk:
            break
        if alternatives or condition:
            found.extend(_verify(conn, chunk, alternatives, condition))
        else:
            found.extend(chunk)
    return found[:limit], len(found) > limit


def _verify(
    conn: sqlite3.Connection,
    rowids: list[int],
    alternatives: list[tuple[str, ...]],
    condition: tuple[str, list[object]] | None,
) -> list[int]:
    """The rowids (order kept) whose document contains one text of every alternatives group
    and passes the filters.

    A text is a substring test on the casefolded document: what the trigram index answers,
    applied to a few candidates at a time.
    """
    if not rowids:
        return []
    tests: list[str] = []
    params: list[object] = [json.dumps(rowids)]
    for options in alternatives:
        tests.append("(" + " OR ".join("instr(d.haystack, ?) > 0" for _ in options) + ")")
        params.extend(options)
    if condition is not None:
        tests.append(condition[0])
        params.extend(condition[1])
    keep = {
        r[0]
        for r in conn.execute(
            "SELECT d.rowid FROM search_docs d WHERE d.rowid IN "
            f"(SELECT value FROM json_each(?)) AND {' AND '.join(tests)}",
            params,
        )
    }
    return [r for r in rowids if r in keep]


def _rank(conn: sqlite3.Connection, rowids: list[int], search_plan: _Plan) -> list[int]:
    """Order matches: the whole query in the content's own title, then every word in the
    title, then some, then none (found through the series, players, tags or file name);
    within each, newest year first, then the newest document."""
    if not rowids:
        return []
    rows = conn.execute(
        "SELECT rowid, title, haystack, year FROM search_docs WHERE rowid IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps(rowids),),
    ).fetchall()
    groups = [a for a in search_plan.alternatives if a]
    # the whole query as one phrase (a corrected word: any of its spellings; a few at most)
    phrases = [" ".join(combo) for combo in itertools.islice(itertools.product(*groups), 9)]

    def key(row: sqlite3.Row) -> tuple[int, int, int]:
        own = row[1] if row[1] is not None else row[2].split(" | ", 1)[0]
        title = normalize_text(own)
        hits = sum(1 for options in groups if any(o in title for o in options))
        if groups and hits == len(groups):
            tier = 0 if any(p in title for p in phrases) else 1
        else:
            tier = 2 if hits else 3
        return (tier, -(row[3] or 0), -row[0])

    return [r[0] for r in sorted(rows, key=key)]


def _content_ids(conn: sqlite3.Connection, rowids: list[int]) -> list[str]:
    if not rowids:
        return []
    found = dict(
        conn.execute(
            "SELECT rowid, content_id FROM search_docs WHERE rowid IN "
            "(SELECT value FROM json_each(?))",
            (json.dumps(rowids),),
        ).fetchall()
    )
    return [found[r] for r in rowids if r in found]


def _facets(
    conn: sqlite3.Connection, rowids: list[int]
) -> tuple[list[int], list[tuple[str, str, int]]]:
    ids = json.dumps(rowids)
    years = [
        int(r[0])
        for r in conn.execute(
            "SELECT DISTINCT year FROM search_docs WHERE rowid IN (SELECT value FROM json_each(?)) "
            "AND year IS NOT NULL ORDER BY year DESC",
            (ids,),
        )
    ]
    players = [
        (r[0], r[1], int(r[2]))
        for r in conn.execute(
            "SELECT p.id, coalesce(p.display_name, p.name), count(*) AS n FROM search_docs d "
            "JOIN content_players cp ON cp.content_id = d.content_id "
            "JOIN players p ON p.id = cp.player_id "
            "WHERE d.rowid IN (SELECT value FROM json_each(?)) "
            "GROUP BY p.id ORDER BY n DESC, 2 LIMIT 30",
            (ids,),
        )
    ]
    return years, players
