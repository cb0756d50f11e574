"""Migration 0020 (accounts) upgrades a catalog in place: accounts, their roles and watch
progress survive the rebuild of ``users``; the new role and tables work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive_analyzer.catalog import db, search_index
from archive_analyzer.web import accounts
from tests.sync.test_thumbnail_triggers import catalog_at
from tests.web.catalog_data import media_root, seed


def test_accounts_migration_keeps_users_and_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    catalog_at(path, 19)
    old = db.connect(path, migrate=False)
    # today's indexer writes columns a version-19 catalog does not have yet (migration 0072);
    # the index is not what this test is about
    monkeypatch.setattr(search_index, "catch_up", lambda conn: 0)
    ids = seed(old, media_root(), "local")
    stamp = db.timestamp(db.utc_now())
    old.execute(
        "INSERT INTO users (id, username, password_hash, role, session_version, created_at, "
        "updated_at) VALUES ('u1', 'boss', 'h1', 'admin', 3, ?, ?), "
        "('u2', 'viewer', 'h2', 'viewer', 1, ?, ?)",
        (stamp, stamp, stamp, stamp),
    )
    old.execute(
        "INSERT INTO watch_progress (user_id, content_id, position_s, updated_at) "
        "VALUES ('u2', ?, 42.0, ?)",
        (ids.ep1, stamp),
    )
    old.execute(
        "INSERT INTO login_attempts (username, ip, at, success) VALUES ('x', 'y', ?, 0)", (stamp,)
    )
    old.close()

    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.migrations()[-1][0]
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    boss = accounts.find_user(conn, "BOSS")
    assert boss is not None and boss.is_admin and boss.session_version == 3
    progress = conn.execute("SELECT user_id, position_s FROM watch_progress").fetchall()
    assert [tuple(r) for r in progress] == [("u2", 42.0)]
    assert accounts.set_role(conn, "viewer", "editor").is_editor
    # the children still point at the rebuilt table: deleting a user cascades
    schema = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'watch_progress'").fetchone()
    assert "REFERENCES users" in schema[0]
    conn.execute("DELETE FROM users WHERE id = 'u2'")
    assert conn.execute("SELECT count(*) FROM watch_progress").fetchone()[0] == 0
    try:
        conn.execute("UPDATE users SET role = 'owner' WHERE id = 'u1'")
        raise AssertionError("the role CHECK is gone")
    except sqlite3.IntegrityError:
        pass
    conn.close()
