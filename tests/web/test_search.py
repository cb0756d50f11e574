"""Search: the FTS5 trigram index, short words, 초성, ranking, and keeping the index current."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive_analyzer.catalog import db, search_index
from archive_analyzer.catalog.hangul import choseong, is_choseong_query
from archive_analyzer.web import search
from archive_analyzer.web.search import SearchQuery
from tests.web.catalog_data import Seeded, seed


@pytest.fixture
def seeded(tmp_path: Path, web_media: Path) -> tuple[sqlite3.Connection, Seeded]:
    conn = db.connect(tmp_path / "s.db")
    ids = seed(conn, web_media, "src")
    return conn, ids


def _ids(conn: sqlite3.Connection, text: str, **filters: object) -> list[str]:
    return search.search(conn, SearchQuery(text=text, **filters)).content_ids  # type: ignore[arg-type]


def test_choseong() -> None:
    assert choseong("다니엘 네그레아누") == "ㄷㄴㅇ ㄴㄱㄹㅇㄴ"
    assert choseong("Phil 아이비!") == "ㅇㅇㅂ"
    assert choseong("ABC") == ""
    assert is_choseong_query("ㄴㄱㄹㅇㄴ") and is_choseong_query("ㄷㄴㅇ ㄴㄱ")
    assert (
        not is_choseong_query("네그") and not is_choseong_query("") and not is_choseong_query("a")
    )


def test_plan() -> None:
    plan = search.plan('  Main  "EVENT" ㄴㄱㄹ 1A 필 %')
    assert plan.fts == '"main" AND """event""" AND choseong : "ㄴㄱㄹ"'
    assert plan.grams == '"1a" AND "필"'
    assert plan.literals == ["%"]
    assert search_index.grams("day 1a, 네그") == "d da a ay y 1 1a 네 네그 그"


def test_korean_english_and_choseong(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    negreanu = {ids.ep1, ids.clip, ids.hcl1}
    assert set(_ids(conn, "네그레아누")) == negreanu
    assert set(_ids(conn, "그레아")) == negreanu  # substring inside a Korean word
    assert set(_ids(conn, "ㄴㄱㄹㅇㄴ")) == negreanu
    assert set(_ids(conn, "ㄴㄱ")) == negreanu  # two consonants: the short-word path
    assert set(_ids(conn, "NEGREANU")) == negreanu
    assert set(_ids(conn, "아이비")) == {ids.ep1, ids.clip}
    assert _ids(conn, "hero_call") == [ids.clip]
    assert set(_ids(conn, "Day 1A")) == {ids.ep1, ids.clip}  # the clip carries its parent title
    assert _ids(conn, "Negreanu.mp4") == [ids.hcl1]  # file names
    assert ids.hidden not in _ids(conn, "Hidden Secret")


def test_short_words(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    assert set(_ids(conn, "필")) == {ids.ep1, ids.clip}  # one Korean character
    assert set(_ids(conn, "1a")) == {ids.ep1, ids.clip}
    assert _ids(conn, "%") == []  # LIKE wildcards are literal
    assert set(_ids(conn, "_")) == {ids.ep1, ids.ep2, ids.clip}  # "Main Event _ Day"


def test_ranking_prefers_titles(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    # "Negreanu" is in the clip's and the HCL stream's titles; ep1 has it only as a player
    ranked = _ids(conn, "negreanu")
    assert ranked[-1] == ids.ep1


def test_filters_and_paging(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    assert _ids(conn, "negreanu", catalog_id="hcl") == [ids.hcl1]
    assert set(_ids(conn, "negreanu", year=2024)) == {ids.ep1, ids.clip}
    assert set(_ids(conn, "", player_id=ids.ivey)) == {ids.ep1, ids.clip}
    assert _ids(conn, "") == []
    page = search.search(conn, SearchQuery(text="negreanu", per_page=2, page=2), facets=True)
    assert page.total == 3 and page.pages == 2 and len(page.content_ids) == 1
    assert page.years == [2025, 2024]
    assert page.players[0][1] == "Daniel Negreanu" and page.players[0][2] == 3


def write(conn: sqlite3.Connection, sql: str, *params: object) -> None:
    """A catalog change as a catalog writer makes it: the change and the index in one
    transaction (catalog/search_index.py)."""
    with db.transaction(conn):
        conn.execute(sql, params)
        search_index.catch_up(conn)


def test_index_follows_catalog_changes(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    assert set(_ids(conn, "아이비")) == {ids.ep1, ids.clip}
    now = db.timestamp(db.utc_now())
    write(conn, "UPDATE players SET name_kr = '필립 아이비' WHERE id = ?", ids.ivey)
    assert set(_ids(conn, "필립")) == {ids.ep1, ids.clip}
    assert set(_ids(conn, "ㅍㄹ ㅇㅇㅂ")) == {ids.ep1, ids.clip}
    write(conn, "UPDATE contents SET title = 'Renamed Final Table' WHERE id = ?", ids.ep2)
    assert _ids(conn, "renamed final") == [ids.ep2]
    write(conn, "UPDATE contents SET status = 'hidden' WHERE id = ?", ids.ep1)
    assert _ids(conn, "아이비") == []  # the episode and its clip disappear
    write(conn, "UPDATE series SET title = '2024 메인 이벤트' WHERE id = 's-wsop-2024-me'")
    assert _ids(conn, "메인 이벤트") == [ids.ep2]
    write(
        conn,
        "INSERT INTO content_players (content_id, player_id, updated_at) VALUES (?, ?, ?)",
        ids.hcl1,
        ids.ivey,
        now,
    )
    assert _ids(conn, "아이비") == [ids.hcl1]
    write(conn, "DELETE FROM contents WHERE id = ?", ids.hcl1)
    assert _ids(conn, "아이비") == []
    assert search_index.pending(conn) == 0


def test_a_clip_follows_its_parents_series_in_the_index(
    seeded: tuple[sqlite3.Connection, Seeded],
) -> None:
    conn, ids = seeded
    # The clip's own series column (a stale copy) names the HCL series; it is found under its
    # parent's series and brand all the same, and a change of that series reaches it.
    write(conn, "UPDATE contents SET series_id = 's-hcl-2025' WHERE id = ?", ids.clip)
    assert ids.clip in _ids(conn, "negreanu", catalog_id="wsop")
    assert ids.clip not in _ids(conn, "negreanu", catalog_id="hcl")
    write(conn, "UPDATE series SET title = '2024 메인 이벤트' WHERE id = 's-wsop-2024-me'")
    assert set(_ids(conn, "메인 이벤트")) == {ids.ep1, ids.ep2, ids.clip}


def test_rebuild(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, _ = seeded
    before = set(_ids(conn, "네그레아누"))
    with db.transaction(conn):
        assert search_index.rebuild(conn) == 5
    assert set(_ids(conn, "네그레아누")) == before
    docs = conn.execute("SELECT count(*) FROM search_docs").fetchone()[0]
    fts = conn.execute("SELECT count(*) FROM search_index").fetchone()[0]
    assert docs == fts == 4  # the hidden content is not indexed


def test_nfd_query_matches_nfc_text(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    import unicodedata

    conn, ids = seeded
    assert set(_ids(conn, unicodedata.normalize("NFD", "네그레아누"))) == {
        ids.ep1,
        ids.clip,
        ids.hcl1,
    }


def test_catch_up_renders_every_queued_document(
    seeded: tuple[sqlite3.Connection, Seeded],
) -> None:
    conn, _ = seeded
    with db.transaction(conn):
        conn.execute("INSERT INTO search_dirty (content_id) SELECT id FROM contents")
        assert search_index.pending(conn) == 5
        assert search_index.catch_up(conn) == 5
        assert search_index.catch_up(conn) == 0
    assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 4


def test_searching_never_writes(seeded: tuple[sqlite3.Connection, Seeded], tmp_path: Path) -> None:
    conn, ids = seeded
    conn.close()
    # A read-only connection searches, and so does one while another connection holds the
    # write lock: the index is the writers' to keep, a search only reads it.
    readonly = db.connect(tmp_path / "s.db", readonly=True)
    writer = db.connect(tmp_path / "s.db", migrate=False)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert set(_ids(readonly, "필 아이비")) == {ids.ep1, ids.clip}
        page = search.search(readonly, SearchQuery(text="negreanu"), facets=True)
        assert page.total == 3
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        readonly.close()
