from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.errors import CatalogError


def test_connect_migrates_and_sets_pragmas(db_path: Path) -> None:
    conn = db.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == db.migrations()[-1][0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"files", "media_info", "scans", "scan_checkpoints", "file_events"} <= tables


def test_migrations_upgrade_in_place(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    first_version, _, first_sql = db.migrations()[0]
    for statement in db._split_sql(first_sql):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {first_version}")
    conn.execute(
        "INSERT INTO files (id, source, path, name, ext, size, mtime, first_seen, last_seen, "
        "updated_at) VALUES ('a', 's', 'x.mp4', 'x.mp4', 'mp4', 1, 0, 't', 't', 't')"
    )
    conn.close()
    upgraded = db.connect(db_path)
    assert upgraded.execute("SELECT path FROM files WHERE id = 'a'").fetchone()[0] == "x.mp4"


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="cannot open catalog"):
        db.connect(bogus)


def test_timestamps_sort_as_text() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    stamps = [db.timestamp(t0 + timedelta(microseconds=i * 7919)) for i in range(50)]
    assert stamps == sorted(stamps)
    assert db.parse_timestamp(stamps[3]) == t0 + timedelta(microseconds=3 * 7919)
