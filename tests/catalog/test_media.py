"""media_info rows from probe results."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from archive_analyzer.catalog import db, media
from archive_analyzer.probe.result import AudioInfo, ProbeResult, ProbeStatus, VideoInfo


def clock() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def add_file(conn: sqlite3.Connection) -> str:
    file_id = db.new_id()
    at = db.timestamp(clock())
    conn.execute(
        "INSERT INTO files (id, source, path, name, ext, size, mtime, first_seen, last_seen, "
        "updated_at) VALUES (?, 'src', 'a/b.mp4', 'b.mp4', 'mp4', 100, 1.5, ?, ?, ?)",
        (file_id, at, at, at),
    )
    return file_id


RESULT = ProbeResult(
    path="a/b.mp4",
    status=ProbeStatus.OK,
    strategy="smart",
    container="mov,mp4,m4a,3gp,3g2,mj2",
    format_long_name="QuickTime / MOV",
    duration_s=10.0,
    bit_rate=80,
    size=100,
    video=VideoInfo("h264", "High", 1920, 1080, 25.0, "yuv420p", "progressive"),
    audio=(AudioInfo("aac", 2, 48000, "eng"),),
    bytes_read=16384,
    reads=1,
    probe_ms=1.5,
)


def test_store_and_upsert(catalog: sqlite3.Connection) -> None:
    file_id = add_file(catalog)
    with db.transaction(catalog):
        media.store(catalog, file_id, RESULT, 100, 1.5, clock)
    row = media.media_info(catalog, file_id)
    assert row is not None
    assert row.status == "ok" and row.video_codec == "h264" and row.width == 1920
    assert row.audio == (media.AudioTrack("aac", 2, 48000, "eng"),)
    assert row.browser_playable is True
    assert row.probed_size == 100 and row.updated_at == db.timestamp(clock())

    prores = RESULT.__class__(
        path="a/b.mp4",
        status=ProbeStatus.TRUNCATED,
        strategy="smart",
        container="mov,mp4,m4a,3gp,3g2,mj2",
        video=VideoInfo("prores", "HQ", 1920, 1080, 25.0),
        error="file ends before the media data",
    )
    media.store(catalog, file_id, prores, 100, 2.0, clock)
    row = media.media_info(catalog, file_id)
    assert row is not None
    assert (row.status, row.video_codec, row.browser_playable) == ("truncated", "prores", False)
    assert row.audio == () and row.probed_mtime == 2.0
    assert catalog.execute("SELECT count(*) FROM media_info").fetchone()[0] == 1


def test_load_missing(catalog: sqlite3.Connection) -> None:
    assert media.media_info(catalog, "nope") is None
