"""Search ranking (the query in a title before matches through the series or players, then
newest) and typo tolerance (5+ letters: one edit, 9+: two; Latin and Hangul; 초성 untouched),
"did you mean", and the vocabulary's cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive_analyzer.catalog import db, search_index
from archive_analyzer.web import search, spelling
from archive_analyzer.web.search import SearchQuery
from tests.web import browsing_data
from tests.web.catalog_data import Seeded, seed


@pytest.fixture
def seeded(tmp_path: Path, web_media: Path) -> tuple[sqlite3.Connection, Seeded]:
    conn = db.connect(tmp_path / "s.db")
    ids = seed(conn, web_media, "src")
    browsing_data.add(conn, "src")
    return conn, ids


def _search(conn: sqlite3.Connection, text: str, **options: object) -> search.SearchPage:
    query = SearchQuery(text=text, **options)  # type: ignore[arg-type]
    return search.search(conn, query, vocabulary=spelling.Vocabulary())


def test_allowed_edits() -> None:
    assert [spelling.allowed_edits(w) for w in ("ivey", "tilly", "hellmuth", "moneymaker")] == [
        0,
        1,
        1,
        2,
    ]
    assert spelling.allowed_edits("ivy", loose=True) == 1
    terms = spelling.Terms.of([("moneymaker", 3), ("moneymakers", 1), ("2024", 9), ("", 1)])
    assert terms.near("moneymakr", 1) == ["moneymaker"]
    assert terms.near("monymaker", 2) == ["moneymaker", "moneymakers"]
    assert terms.near("moneymaker", 2) == ["moneymakers"]  # never the word itself
    assert terms.near("moenymaker", 1) == ["moneymaker"]  # a swap of two letters is one edit
    assert len(terms) == 2 and terms.near("2025", 1) == []  # numbers are never corrected


def test_typos_are_forgiven(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    found = _search(conn, "moneymakr")
    assert found.content_ids == ["moneymaker"] and found.corrected == "moneymaker"
    assert _search(conn, "moneymakr", exact=True).content_ids == []
    assert _search(conn, "chris moneymakr").content_ids == ["moneymaker"]
    # two edits from a 9+ letter word; one from a 5-8 letter one
    assert _search(conn, "mooneymakr").content_ids == ["moneymaker"]
    assert set(_search(conn, "negreano").content_ids) == {ids.ep1, ids.clip, ids.hcl1}
    assert _search(conn, "negrano").content_ids == []  # two edits from an 8-letter word
    # Korean: one syllable off
    hangul = _search(conn, "네그레아노")
    assert set(hangul.content_ids) == {ids.ep1, ids.clip, ids.hcl1}
    assert hangul.corrected == "네그레아누"
    # series titles are in the vocabulary too
    assert _search(conn, "higlights").content_ids[:1] in (["alpha-1"], ["own-clip"])
    # short words and 초성 are taken as typed
    assert _search(conn, "ivy").content_ids == []
    assert set(_search(conn, "ㄴㄱㄹㅇㄴ").content_ids) == {ids.ep1, ids.clip, ids.hcl1}
    # a word that is found as typed is not "corrected" to something else
    assert _search(conn, "negreanu").corrected is None


def test_did_you_mean(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, _ = seeded
    nothing = _search(conn, "ivy")
    assert nothing.total == 0 and nothing.suggestion == "ivey"
    assert _search(conn, "zzqxv").suggestion is None
    assert _search(conn, "chris ivy").suggestion is None  # "chris ivey" finds nothing either


def test_titles_rank_above_series_and_players(seeded: tuple[sqlite3.Connection, Seeded]) -> None:
    conn, ids = seeded
    # "Main Event": in the title of the 2024 episodes, the final table and the 2003 episode;
    # the hand only through its episode's title
    ranked = _search(conn, "main event").content_ids
    titled = {ids.ep1, ids.ep2, "final-table", "moneymaker"}
    assert set(ranked[:4]) == titled and ranked[4:] == [ids.clip]
    assert ranked.index("moneymaker") == 3  # 2003: the oldest of the titled ones
    # a player: the titles that name him first, the episode where he only plays last
    assert _search(conn, "negreanu").content_ids[-1] == ids.ep1


def test_vocabulary_is_cached_until_the_index_changes(
    seeded: tuple[sqlite3.Connection, Seeded],
) -> None:
    conn, ids = seeded
    loads: list[int] = []
    now = [0.0]

    def loader(c: sqlite3.Connection) -> spelling.Terms:
        loads.append(1)
        return spelling.load_terms(c)

    vocabulary = spelling.Vocabulary(ttl_s=10, max_age_s=300, clock=lambda: now[0], loader=loader)
    assert "moneymaker" in vocabulary.terms(conn).docs
    vocabulary.terms(conn)
    assert len(loads) == 1
    with db.transaction(conn):
        conn.execute(
            "UPDATE contents SET title = 'Jennifer Tilly Special' WHERE id = ?", (ids.ep2,)
        )
        search_index.catch_up(conn)
    now[0] = 5
    assert "tilly" not in vocabulary.terms(conn).docs  # within ttl: the copy
    now[0] = 11
    assert "tilly" in vocabulary.terms(conn).docs and len(loads) == 2
    now[0] = 400
    vocabulary.terms(conn)
    assert len(loads) == 3  # too old: read again whatever the version
