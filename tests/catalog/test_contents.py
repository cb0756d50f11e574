from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from archive_analyzer.catalog import contents, db

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def add_file(conn: sqlite3.Connection, path: str, *, is_media: int = 1) -> str:
    fid = db.new_id()
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    stamp = db.timestamp(T0)
    conn.execute(
        "INSERT INTO files (id, source, path, name, ext, size, mtime, is_media, first_seen, "
        "last_seen, updated_at) VALUES (?, 'nas', ?, ?, ?, 1, 0, ?, ?, ?, ?)",
        (fid, path, name, ext, is_media, stamp, stamp, stamp),
    )
    return fid


def test_refresh_creates_rows_and_skips_junk(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    media = add_file(catalog, "HCL/2025/20250611 - Nik Airball, Sashimi.mp4")
    junk = add_file(catalog, "HCL/2025/upload.part", is_media=0)
    with db.transaction(catalog):
        contents.refresh(catalog, [media, junk], now=clock)
    rows = catalog.execute("SELECT * FROM contents").fetchall()
    assert len(rows) == 1
    assert rows[0]["file_id"] == media
    assert rows[0]["catalog_id"] == "hcl"
    assert catalog.execute("SELECT count(*) FROM series").fetchone()[0] == 1


def test_refresh_keeps_content_id_when_series_changes(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    fid = add_file(catalog, "PAD/PAD S12/PAD S12 EP05.mp4")
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    before = catalog.execute("SELECT id, series_id FROM contents").fetchone()
    catalog.execute("UPDATE files SET path = 'PAD/PAD S13/PAD S12 EP05.mp4' WHERE id = ?", (fid,))
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    after = catalog.execute("SELECT id, series_id FROM contents").fetchone()
    assert after["id"] == before["id"]
    assert after["series_id"] != before["series_id"]
