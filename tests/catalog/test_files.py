"""The file repository: ids, media flags, events, updated_at on every change."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.sources.base import FileInfo

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def stamp(minutes: int) -> str:
    return db.timestamp(T0 + timedelta(minutes=minutes))


def events(conn: sqlite3.Connection, file_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT kind FROM file_events WHERE file = ? ORDER BY id",
                                       (file_id,))]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("a/b.MP4", True),
        ("x.mxf", True),
        ("x.m2ts", True),
        ("x.webm", True),
        ("x.mp4.part", False),
        ("x.zip", False),
        ("Thumbs.db", False),
        ("x.xmp", False),
        ("x.pek", False),
        ("noext", False),
    ],
)
def test_is_media_by_extension(path: str, media: bool) -> None:
    assert repo.is_media(path) is media


def test_temporary_names() -> None:
    assert repo.is_temporary("a/x.mp4.part")
    assert repo.is_temporary("~$draft.mp4")
    assert repo.is_temporary("x.crdownload")
    assert not repo.is_temporary("PAD S12 EP05.mp4")


def test_add_assigns_random_ids_and_skips_junk(catalog: sqlite3.Connection) -> None:
    conn = catalog
    with db.transaction(conn):
        ids = repo.add(
            conn,
            "src",
            [
                (FileInfo("a/ep1.mp4", 10, 1.0, "1", False), "active"),
                (FileInfo("a/ep1.mp4.part", 5, 1.0, "2", False), "incoming"),
                (FileInfo("a/x.zip", 5, 1.0, "3", False), "active"),
            ],
            stamp(0),
        )
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
    rows = {r.path: r for r in repo.load(conn, "src").values()}
    assert rows["a/ep1.mp4"].is_media and rows["a/ep1.mp4"].probe_state == "pending"
    assert not rows["a/ep1.mp4.part"].is_media and rows["a/ep1.mp4.part"].probe_state == "skipped"
    assert rows["a/x.zip"].probe_state == "skipped"
    assert events(conn, ids[0]) == ["new"]


def test_every_change_bumps_updated_at_and_records_an_event(catalog: sqlite3.Connection) -> None:
    conn = catalog
    with db.transaction(conn):
        (fid,) = repo.add(conn, "src", [(FileInfo("a.mp4.part", 1, 1.0, "9", False), "incoming")],
                          stamp(0))  # fmt: skip

    def updated() -> str:
        return str(conn.execute("SELECT updated_at FROM files WHERE id = ?", (fid,)).fetchone()[0])

    row = repo.get(conn, fid)
    assert row is not None
    with db.transaction(conn):
        repo.change(conn, [(row, FileInfo("a.mp4.part", 2, 2.0, "9", False), "incoming")], stamp(1))
    assert updated() == stamp(1)
    row = repo.get(conn, fid)
    assert row is not None and row.size == 2
    with db.transaction(conn):
        repo.move(conn, [(row, FileInfo("b/a.mp4", 2, 2.0, "9", False), "active")], stamp(2))
    moved = repo.get(conn, fid)
    assert moved is not None
    assert (moved.path, moved.is_media, moved.probe_state) == ("b/a.mp4", True, "pending")
    assert updated() == stamp(2)
    with db.transaction(conn):
        repo.set_status(conn, [moved], "missing", stamp(3))
    gone = repo.get(conn, fid)
    assert gone is not None and gone.status == "missing" and gone.missing_since == stamp(3)
    with db.transaction(conn):
        repo.set_status(conn, [gone], "active", stamp(4), event="restored")
        repo.set_probe_state(conn, fid, "done", stamp(5), {"status": "ok"})
    back = repo.get(conn, fid)
    assert back is not None and back.missing_since is None and back.probe_state == "done"
    assert updated() == stamp(5)
    assert events(conn, fid) == ["new", "changed", "moved", "missing", "restored", "probed"]


def test_two_rows_can_swap_paths_in_one_transaction(catalog: sqlite3.Connection) -> None:
    conn = catalog
    with db.transaction(conn):
        a, b = repo.add(
            conn,
            "src",
            [
                (FileInfo("a.mp4", 1, 1.0, "1", False), "active"),
                (FileInfo("b.mp4", 2, 1.0, "2", False), "active"),
            ],
            stamp(0),
        )
    rows = repo.load(conn, "src")
    with db.transaction(conn):
        repo.move(
            conn,
            [
                (rows["a.mp4"], FileInfo("b.mp4", 1, 1.0, "1", False), "active"),
                (rows["b.mp4"], FileInfo("a.mp4", 2, 1.0, "2", False), "active"),
            ],
            stamp(1),
        )
    after = repo.load(conn, "src")
    assert after["b.mp4"].id == a and after["a.mp4"].id == b
