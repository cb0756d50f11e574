"""Migration 0009: the change-log triggers on ``thumbnails`` (installed by the sync at run time
until then) and the in-place upgrade of a catalog at version 8."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.errors import SyncError
from archive_analyzer.sync.replicator import Replicator
from archive_analyzer.sync.sink import MemorySink
from tests.sync.catalog_data import PATHS, TickClock, add_file, content_of, expected_documents

TRIGGERS = {"sync_thumbnails_insert", "sync_thumbnails_update", "sync_thumbnails_delete"}


def catalog_at(path: Path, version: int, *, skip: frozenset[int] = frozenset()) -> None:
    """A catalog file at schema ``version`` (as an older program left it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for number, _, sql in db.migrations():
        if number <= version and number not in skip:
            for statement in db._split_sql(sql):
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


# What today's reads need from later migrations: (migration, statement start), in order.
_LENT = (
    (10, "CREATE VIEW content_view"),
    (60, "CREATE TABLE file_hashes"),
    (61, "CREATE TABLE content_versions"),
    (61, "CREATE VIEW version_files"),
)


def read_view(conn: sqlite3.Connection, present: bool) -> None:
    """Lend today's code the read model's view (migration 0010) and the tables and views its
    reads join (file hashes and versions, 0060-0061) on an older catalog, so it can play the
    older program that wrote it; taken away again before the upgrade."""
    if not present:
        conn.execute("DROP VIEW version_files")
        conn.execute("DROP TABLE content_versions")
        conn.execute("DROP TABLE file_hashes")
        conn.execute("DROP VIEW content_view")
        return
    by_number = {number: sql for number, _, sql in db.migrations()}
    for number, start in _LENT:
        conn.execute(next(s for s in db._split_sql(by_number[number]) if s.startswith(start)))


@contextlib.contextmanager
def newer_columns(conn: sqlite3.Connection) -> Iterator[None]:
    """Today's code reads and writes columns and tables that later migrations added
    (``media_info.timecode``, the search index's ``words`` and ``search_words``...): lend them
    to an old catalog for the block, blank, and take them out after, so the migrations still
    find the old schema."""
    fresh = db.connect(":memory:")
    added: list[tuple[str, str]] = []
    tables: list[str] = []
    have_tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    for (name,) in fresh.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
    ):
        if name not in have_tables:
            tables.append(name)
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for row in fresh.execute(f"PRAGMA table_info({table})"):
            if row[1] not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {row[1]} {row[2]}")
                added.append((table, row[1]))
    for name in tables:  # after the columns: an external-content index needs them
        sql = fresh.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        conn.execute(sql[0])
    fresh.close()
    try:
        yield
    finally:
        for name in reversed(tables):
            conn.execute(f"DROP TABLE {name}")
        for table, column in added:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def add_thumbnail(conn: sqlite3.Connection, fid: str, clock: TickClock) -> None:
    stamp = db.timestamp(clock())
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO thumbnails (file, size, mtime, position_s, made_at, updated_at) "
            "SELECT id, size, mtime, 12.5, ?, ? FROM files WHERE id = ?",
            (stamp, stamp, fid),
        )


def triggers(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    return {str(r[0]) for r in rows} & TRIGGERS


def pending(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM sync_changes").fetchone()[0])


def test_a_fresh_catalog_logs_thumbnail_changes(catalog: sqlite3.Connection) -> None:
    clock = TickClock()
    fid = add_file(catalog, PATHS[1], clock)
    assert triggers(catalog) == TRIGGERS
    Replicator(catalog, MemorySink(), clock=clock).run()
    add_thumbnail(catalog, fid, clock)
    with db.transaction(catalog):
        catalog.execute("UPDATE thumbnails SET position_s = 13, updated_at = updated_at")
        catalog.execute("DELETE FROM thumbnails")
    logged = catalog.execute("SELECT entity, row_id FROM sync_changes").fetchall()
    assert [tuple(r) for r in logged] == [("file", fid)] * 3


def test_a_version_8_catalog_upgrades_in_place_and_publishes_its_poster_frames(
    db_path: Path,
) -> None:
    catalog_at(db_path, 8)
    old = db.connect(db_path, migrate=False)
    read_view(old, True)
    clock = TickClock()
    sink = MemorySink()
    with newer_columns(old):
        fid = add_file(old, PATHS[2], clock)
        Replicator(old, sink, clock=clock).run()
    add_thumbnail(old, fid, clock)  # made while no trigger logged it
    assert pending(old) == 0
    read_view(old, False)
    old.close()

    conn = db.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.migrations()[-1][0]
    assert triggers(conn) == TRIGGERS
    assert pending(conn) == 1  # the existing thumbnail, logged once
    Replicator(conn, sink, clock=clock).run()
    cid = content_of(conn, fid)["id"]
    published = {k: v for k, v in sink.documents.items() if not k.startswith("_sync")}
    assert published == expected_documents(conn)
    doc = next(d for p, d in published.items() if p.endswith(cid))
    assert doc["thumbnail"] == {"path": f"/thumb/{cid}", "position_s": 12.5}
    conn.close()


def test_triggers_a_sync_already_installed_are_kept_and_nothing_is_relogged(
    db_path: Path,
) -> None:
    catalog_at(db_path, 8)
    old = db.connect(db_path, migrate=False)
    read_view(old, True)
    clock = TickClock()
    with newer_columns(old):
        fid = add_file(old, PATHS[1], clock)
        Replicator(old, MemorySink(), clock=clock).run()
    # what the sync's run-time installation left in a version-8 catalog
    old.execute(
        "CREATE TRIGGER sync_thumbnails_insert AFTER INSERT ON thumbnails BEGIN "
        "INSERT INTO sync_changes (entity, row_id, changed_at) "
        "VALUES ('file', NEW.file, NEW.updated_at); END"
    )
    add_thumbnail(old, fid, clock)
    with newer_columns(old):
        Replicator(old, MemorySink(), clock=clock).run()
    assert pending(old) == 0
    read_view(old, False)
    old.close()

    conn = db.connect(db_path)
    assert triggers(conn) == TRIGGERS
    assert pending(conn) == 0
    conn.close()


def test_a_catalog_without_sync_tables_still_upgrades_and_sync_says_why(db_path: Path) -> None:
    catalog_at(db_path, 8, skip=frozenset({5}))
    conn = db.connect(db_path)
    clock = TickClock()
    fid = add_file(conn, PATHS[1], clock)
    add_thumbnail(conn, fid, clock)  # the web app's write keeps working
    with pytest.raises(SyncError, match="no sync tables"):
        Replicator(conn, MemorySink(), clock=clock).run()
    conn.close()
