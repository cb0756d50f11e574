"""A catalog over the probe corpus for the playback tests: real files, real probe results.

Every corpus file named gets a ``files`` row, a ``media_info`` row from the real probe engine
and an episode content, under one brand and series; ids are returned by corpus name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from archive_analyzer.catalog import db, media, search_index
from archive_analyzer.probe import engine
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.local import LocalSource
from tests.fixtures.corpus import ITEMS

# Every video of the probe corpus: what the prober finds healthy (or still being written).
VIDEOS = tuple(item.name for item in ITEMS if item.status in ("ok", "incomplete"))


def seed_corpus(
    conn: sqlite3.Connection,
    corpus: dict[str, Path],
    names: Iterable[str],
    source: Source | None = None,
) -> dict[str, str]:
    """Catalog ``names`` from ``corpus``; returns name -> content id.

    The files are read through ``source`` by their file names (default: a local source on the
    corpus folder); copy them to its root first when it is another folder or a share.
    """
    now = db.utc_now
    stamp = db.timestamp(now())
    if source is None:
        source = LocalSource(next(iter(corpus.values())).parent)
    contents: dict[str, str] = {}
    with db.transaction(conn):
        conn.execute(
            "INSERT OR IGNORE INTO catalogs (id, title, sort_order, created_at, updated_at) "
            "VALUES ('corpus', 'Corpus', 9, ?, ?)",
            (stamp, stamp),
        )
        conn.execute(
            "INSERT OR IGNORE INTO series (id, catalog_id, key, title, year, sort_key, "
            "created_at, updated_at) VALUES ('s-corpus', 'corpus', 'corpus', 'Corpus files', "
            "2026, 'z', ?, ?)",
            (stamp, stamp),
        )
        for name in names:
            path = corpus[name]
            st = path.stat()
            fid = db.new_id()
            conn.execute(
                "INSERT INTO files (id, source, path, name, ext, size, mtime, status, "
                "probe_state, first_seen, last_seen, updated_at) "
                "VALUES (?,?,?,?,?,?,?,'active','done',?,?,?)",
                (
                    fid,
                    source.name,
                    path.name,
                    path.name,
                    path.suffix.lstrip(".").lower(),
                    st.st_size,
                    st.st_mtime,
                    stamp,
                    stamp,
                    stamp,
                ),
            )
            result = engine.probe_file(source, path.name)
            media.store(conn, fid, result, st.st_size, st.st_mtime, now)
            cid = f"c-{name.replace('_', '-')}"
            conn.execute(
                "INSERT INTO contents (id, kind, file_id, series_id, catalog_id, title, "
                "sort_key, created_at, updated_at) "
                "VALUES (?, 'episode', ?, 's-corpus', 'corpus', ?, ?, ?, ?)",
                (cid, fid, f"Corpus {name}", name, stamp, stamp),
            )
            contents[name] = cid
        search_index.catch_up(conn)  # as every catalog writer does before it commits
    return contents
