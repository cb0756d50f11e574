"""Building small catalogs for the sync tests through the real catalog code (``refresh``)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from archive_analyzer.catalog import contents, db
from archive_analyzer.sync import load
from archive_analyzer.sync.plan import document_for

SMB_SOURCE = "smb://archive@nas.example.internal:445/ARCHIVE"  # must never reach Firestore
SECRET_MARKERS = ("nas.example.internal", "smb://", "archive@", ":445", SMB_SOURCE)


class TickClock:
    """A clock that moves 1 ms per call (distinct, increasing timestamps)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def add_file(
    conn: sqlite3.Connection,
    path: str,
    clock: TickClock,
    *,
    size: int = 5_000_000_000,
    is_media: bool = True,
    probed: bool = True,
) -> str:
    """A file row (and its media_info), classified into catalog rows by ``refresh``."""
    stamp = db.timestamp(clock())
    fid = db.new_id()
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO files (id, source, path, name, ext, size, mtime, file_id, status, "
            "is_media, probe_state, first_seen, last_seen, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)",
            (
                fid,
                SMB_SOURCE,
                path,
                name,
                ext,
                size,
                1_760_000_000.5,
                "0x00ff12",
                int(is_media),
                "done" if probed else "pending",
                stamp,
                stamp,
                stamp,
            ),
        )
        if probed and is_media:
            conn.execute(
                "INSERT INTO media_info (id, status, container, duration_s, bit_rate, size, "
                "video_codec, width, height, frame_rate, audio, strategy, browser_playable, "
                "probed_at, updated_at) VALUES (?, 'ok', 'mp4', 3600.5, 8000000, ?, 'h264', "
                "1920, 1080, 29.97, ?, 'smart', 1, ?, ?)",
                (
                    fid,
                    size,
                    json.dumps([{"codec": "aac", "channels": 2, "sample_rate": 48000}]),
                    stamp,
                    stamp,
                ),
            )
        contents.refresh(conn, [fid], now=clock)
    return fid


def move_file(conn: sqlite3.Connection, fid: str, new_path: str, clock: TickClock) -> None:
    stamp = db.timestamp(clock())
    with db.transaction(conn):
        conn.execute(
            "UPDATE files SET path = ?, name = ?, updated_at = ? WHERE id = ?",
            (new_path, new_path.rsplit("/", 1)[-1], stamp, fid),
        )
        contents.refresh(conn, [fid], now=clock)


def set_file_status(conn: sqlite3.Connection, fid: str, status: str, clock: TickClock) -> None:
    stamp = db.timestamp(clock())
    with db.transaction(conn):
        conn.execute(
            "UPDATE files SET status = ?, updated_at = ? WHERE id = ?", (status, stamp, fid)
        )
        contents.refresh(conn, [fid], now=clock)


def content_of(conn: sqlite3.Connection, fid: str) -> sqlite3.Row:
    row: sqlite3.Row = conn.execute(
        "SELECT * FROM contents WHERE file_id = ? AND parent_id IS NULL", (fid,)
    ).fetchone()
    return row


def add_clip(
    conn: sqlite3.Connection,
    parent_id: str,
    clock: TickClock,
    *,
    start: float,
    end: float,
    title: str,
    tag: str | None = None,
) -> str:
    """A hand clip: a range of its parent episode, with an optional play tag."""
    stamp = db.timestamp(clock())
    cid = db.new_id()
    parent = conn.execute("SELECT * FROM contents WHERE id = ?", (parent_id,)).fetchone()
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO contents (id, kind, parent_id, start_sec, end_sec, series_id, "
            "catalog_id, status, title, created_at, updated_at) "
            "VALUES (?, 'clip', ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
            (
                cid,
                parent_id,
                start,
                end,
                parent["series_id"],
                parent["catalog_id"],
                title,
                stamp,
                stamp,
            ),
        )
        if tag is not None:
            conn.execute(
                "INSERT INTO tags (id, name, kind, created_at, updated_at) VALUES (?, ?, 'play', "
                "?, ?) ON CONFLICT (id) DO NOTHING",
                (tag, tag.replace("_", " "), stamp, stamp),
            )
            conn.execute(
                "INSERT INTO content_tags (content_id, tag_id, origin, updated_at) "
                "VALUES (?, ?, 'import', ?)",
                (cid, tag, stamp),
            )
    return cid


def expected_documents(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """What the catalog says Firestore should hold: every row's document, built from scratch."""
    keys = load.all_keys(conn)
    rows = load.load_rows(conn, keys)
    out: dict[str, dict[str, Any]] = {}
    for row in rows.values():
        wanted = document_for(row)
        if wanted is not None:
            out[wanted[0]] = wanted[1]
    return out


def without_metadata(dump: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in dump.items() if not k.startswith("_sync_metadata/")}


PATHS = [
    "WSOP/WSOP-BR/WSOP-EUROPE/2025 WSOP-Europe/2025 WSOP-EUROPE MAIN EVENT/Day 1 A/"
    "WSOP 2025 Main Event _ Day 1A.mp4",
    "WSOP/WSOP-BR/WSOP-LAS VEGAS/2024 WSOP-LAS VEGAS/WSOP 2024 Event #58 $50K PPC Day 3.mp4",
    "HCL/2025/20250611 - Nik Airball, Sashimi, Tony T.mp4",
    "PAD/PAD S12/PAD S12 EP05.mp4",
    "GGMillions/GGMillions Super High Roller Final Table.mp4",
    "WSOP/WSOP ARCHIVE (PRE-2016)/WSOP Archive (1973-2002)/1995/WSOP - 1995 (1).mov",
]
