"""Migration 0072 upgrades an indexed catalog in place: every document gets its own title and
the words typo tolerance corrects against, and the vocabulary lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_analyzer.catalog import db, search_index
from archive_analyzer.web import search, spelling
from tests.sync.test_thumbnail_triggers import catalog_at
from tests.web.catalog_data import media_root, seed


def test_search_words_migration_fills_the_vocabulary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    catalog_at(path, 71)
    old = db.connect(path, migrate=False)
    with monkeypatch.context() as patch:  # today's indexer needs the columns 0072 adds
        patch.setattr(search_index, "catch_up", lambda conn: 0)
        ids = seed(old, media_root(), "local")
    # the documents as the older program indexed them (its three tables, consistent)
    rows = old.execute("SELECT id, kind, title FROM contents WHERE status = 'active'").fetchall()
    for content_id, kind, title in rows:
        haystack = search_index.normalize_text(title)
        rowid = old.execute(
            "INSERT INTO search_docs (content_id, kind, haystack) VALUES (?, ?, ?)",
            (content_id, kind, haystack),
        ).lastrowid
        old.execute("INSERT INTO search_index (rowid, title) VALUES (?, ?)", (rowid, title))
        old.execute(
            "INSERT INTO search_grams (rowid, grams) VALUES (?, ?)",
            (rowid, search_index.grams(haystack)),
        )
    old.close()

    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.migrations()[-1][0]
    titles = dict(conn.execute("SELECT content_id, title FROM search_docs").fetchall())
    assert titles[ids.ep1] == "WSOP 2024 Main Event _ Day 1A (Part 1)"
    words = dict(conn.execute("SELECT content_id, words FROM search_docs").fetchall())
    assert "Daniel Negreanu" in words[ids.ep1] and "2024 WSOP Main Event" in words[ids.ep1]
    assert "다니엘 네그레아누" in words[ids.clip]  # a hand: its episode's series, its players
    terms = spelling.load_terms(conn).docs
    assert terms["negreanu"] == 3 and terms["네그레아누"] == 3 and terms["wsop"] >= 3
    # and later changes keep it exact (the index's owner from here on)
    with db.transaction(conn):
        conn.execute("UPDATE players SET name = 'Daniel Negreano' WHERE id = ?", (ids.negreanu,))
        search_index.catch_up(conn)
    terms = spelling.load_terms(conn).docs
    assert terms.get("negreano") == 3
    found = search.search(conn, search.SearchQuery(text="moneymaker"))
    assert found.content_ids == []
