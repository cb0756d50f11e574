"""A small catalog for the read model's rule tests, built by the real catalog code."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog import contents, db, read
from archive_analyzer.catalog.hand_sheet import import_hands
from tests.catalog.catalog_rows import FakeClock, add_file

EP = "WSOP/WSOP 2025/WSOP 2025 Main Event _ Day 8 (Part 2).mp4"
OTHER = "HCL/2025/20250611 - Nik Airball, Daniel Negreanu.mp4"


@dataclass(frozen=True)
class Built:
    conn: sqlite3.Connection
    clock: FakeClock
    file: str  # the episode's file
    episode: str
    clip: str  # a hand of the episode: plays the episode's file from 10 s to 20 s
    other: str  # an episode of another brand and series
    other_series: str


def build(catalog: sqlite3.Connection) -> Built:
    """Two episodes of two brands and series (classified from their paths) and a hand clip
    of the first (imported from a hands sheet)."""
    clock = FakeClock()
    fid = add_file(catalog, EP, duration=3600)
    other_fid = add_file(catalog, OTHER, duration=600)
    with db.transaction(catalog):
        contents.refresh(catalog, [fid, other_fid], now=clock)
        import_hands(catalog, f"id,file_id,start_sec,end_sec\nh1,{fid},10,20\n", now=clock)
    one = catalog.execute

    def content_of(file_id: str) -> sqlite3.Row:
        row: sqlite3.Row = one(
            "SELECT * FROM contents WHERE file_id = ? AND parent_id IS NULL", (file_id,)
        ).fetchone()
        return row

    episode, other = content_of(fid), content_of(other_fid)
    clip = one("SELECT id FROM contents WHERE parent_id = ?", (episode["id"],)).fetchone()[0]
    return Built(catalog, clock, fid, episode["id"], clip, other["id"], other["series_id"])


def row(b: Built, content_id: str) -> read.ContentRow:
    found = read.content(b.conn, content_id)
    assert found is not None
    return found


def edit(b: Built, content_id: str, field: str, value: object) -> None:
    with db.transaction(b.conn):
        contents.set_manual(b.conn, "contents", content_id, field, value, now=b.clock)
