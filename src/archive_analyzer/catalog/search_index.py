"""The search index, kept by the catalog's writers in the same transaction as their changes.

The index tables (``search_docs``, the FTS5 tables ``search_index`` and ``search_grams``,
migration 0006, and ``search_words`` with its vocabulary ``search_terms``, migration 0072)
are derived from the catalog: one document per visible content with its title, series and
brand, players (name, display name, Korean name), tags, the name of the file it owns and the
초성 of the Korean names and title, plus the facts the filters need (effective brand and year,
from ``content_view``) and the words typo tolerance corrects against (title, series title,
player names).

Ownership (docs/jobs.md): triggers queue the ids of contents whose document may have changed
in ``search_dirty``; :func:`catch_up` re-renders exactly those and empties the queue. Every
catalog write that can change a document calls it before its transaction commits
(``contents.refresh``, so scans, polls, reclassify; ``contents.set_manual`` / ``unlock``; the
players and hands imports), so the index is never behind the catalog and nothing else ever
writes it: the web app's searches only read. :func:`rebuild` redoes every document.

Never opens or commits a transaction itself: it runs inside the caller's.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Sequence

from archive_analyzer.catalog.hangul import choseong

_BATCH = 500
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what the unicode61 tokenizer keeps


def normalize_text(text: str) -> str:
    """NFC (Korean typed on macOS arrives as NFD), casefolded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def words_of(text: str) -> list[str]:
    """The letter-and-digit runs of ``text`` (what the short-word index is made of)."""
    return _WORD.findall(text)


def is_word(text: str) -> bool:
    """Whether ``text`` is one letter-and-digit run (a short query word the grams index holds)."""
    return _WORD.fullmatch(text) is not None


def grams(text: str) -> str:
    """Every distinct character and adjacent character pair of each word of ``text`` (pure).

    ``"day 1a"`` -> ``"d da a ay y 1 1a"`` (a set, in first-seen order). Stored in
    ``search_grams`` so that 1-2 character queries are index lookups too.
    """
    seen: dict[str, None] = {}
    for word in words_of(text):
        for i, ch in enumerate(word):
            seen[ch] = None
            if i + 1 < len(word):
                seen[word[i : i + 2]] = None
    return " ".join(seen)


def pending(conn: sqlite3.Connection) -> int:
    """How many contents wait in ``search_dirty`` (0 after every catalog write)."""
    return int(conn.execute("SELECT count(*) FROM search_dirty").fetchone()[0])


def catch_up(conn: sqlite3.Connection) -> int:
    """Re-render the documents of every queued content and empty the queue; returns how many
    ids were processed. Run inside the writer's transaction (cheap when nothing is queued:
    one indexed read)."""
    done = 0
    while True:
        batch = [
            str(row[0])
            for row in conn.execute("SELECT content_id FROM search_dirty LIMIT ?", (_BATCH,))
        ]
        if not batch:
            return done
        _reindex(conn, batch)
        conn.execute(
            "DELETE FROM search_dirty WHERE content_id IN (SELECT value FROM json_each(?))",
            (json.dumps(batch),),
        )
        done += len(batch)


def rebuild(conn: sqlite3.Connection) -> int:
    """Drop every document and index all contents again, inside the caller's transaction;
    returns the number of contents processed."""
    conn.execute("DELETE FROM search_docs")
    conn.execute("DELETE FROM search_index")
    conn.execute("INSERT INTO search_grams (search_grams) VALUES ('delete-all')")
    conn.execute("INSERT INTO search_words (search_words) VALUES ('delete-all')")
    conn.execute("INSERT OR IGNORE INTO search_dirty (content_id) SELECT id FROM contents")
    return catch_up(conn)


def _reindex(conn: sqlite3.Connection, content_ids: Sequence[str]) -> None:
    ids_json = json.dumps(list(content_ids))
    old = conn.execute(
        "SELECT rowid, haystack, words FROM search_docs "
        "WHERE content_id IN (SELECT value FROM json_each(?))",
        (ids_json,),
    ).fetchall()
    for rowid, old_haystack, old_words in old:
        # external content: a delete names the words the document held
        conn.execute(
            "INSERT INTO search_words (search_words, rowid, words) VALUES ('delete', ?, ?)",
            (rowid, old_words or ""),
        )
        conn.execute("DELETE FROM search_index WHERE rowid = ?", (rowid,))
        # contentless: a delete names the exact tokens that were inserted
        conn.execute(
            "INSERT INTO search_grams (search_grams, rowid, grams) VALUES ('delete', ?, ?)",
            (rowid, grams(old_haystack)),
        )
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
    # The effective brand, series, year and visibility are the read model's (content_view);
    # the file name is that of the file the content owns (clips of a range have none).
    rows = conn.execute(
        "SELECT v.id, v.kind, v.title, v.event_name, v.buy_in, v.sort_key, v.catalog_id, "
        "v.year, s.title AS series_title, s.sub_brand, s.location, cat.title AS catalog_title, "
        "f.name AS file_name, pc.title AS parent_title "
        "FROM content_view v "
        "LEFT JOIN contents pc ON pc.id = v.parent_id "
        "LEFT JOIN series s ON s.id = v.series_id "
        "LEFT JOIN catalogs cat ON cat.id = v.catalog_id "
        "LEFT JOIN files f ON f.id = v.file_id "
        "WHERE v.id IN (SELECT value FROM json_each(?)) AND v.visible",
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
        # what a typo may stand for: the title, the series' title, the players' names
        words = _join(row["title"], row["series_title"], player_text)
        cursor = conn.execute(
            "INSERT INTO search_docs (content_id, kind, catalog_id, year, sort_key, haystack, "
            "title, words) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                content_id,
                row["kind"],
                row["catalog_id"],
                row["year"],
                row["sort_key"] or "",
                haystack,
                row["title"],
                words,
            ),
        )
        conn.execute(
            "INSERT INTO search_words (rowid, words) VALUES (?, ?)", (cursor.lastrowid, words)
        )
        conn.execute(
            "INSERT INTO search_index (rowid, title, series, players, tags, file_name, choseong) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (cursor.lastrowid, title, series, player_text, tag_text, file_name, initials),
        )
        conn.execute(
            "INSERT INTO search_grams (rowid, grams) VALUES (?, ?)",
            (cursor.lastrowid, grams(haystack)),
        )


def _join(*parts: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", p) for p in parts if p)
