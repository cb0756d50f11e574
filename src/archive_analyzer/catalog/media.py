"""Storing media_info rows: what the prober found in each file (one row per file, upserted).

``store`` writes only ``media_info``; the file's ``probe_state`` and its probed /
probe_failed event are recorded by ``catalog.files.set_probe_state`` in the same transaction
(the pipeline's ``ingest`` calls both).
"""

from __future__ import annotations

import sqlite3

from archive_analyzer.catalog import read
from archive_analyzer.catalog.db import Clock, timestamp
from archive_analyzer.probe.result import ProbeResult

_COLUMNS = ("id", *read.MEDIA_COLUMNS)

_UPSERT = (
    f"INSERT INTO media_info ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id")
)


def info_of(
    result: ProbeResult, probed_size: int | None, probed_mtime: float | None, at: str
) -> read.MediaInfo:
    """The media facts ``result`` makes (pure); ``at`` stamps ``probed_at``/``updated_at``."""
    video = result.video
    return read.MediaInfo(
        status=result.status.value,
        container=result.container,
        format_long_name=result.format_long_name,
        duration_s=result.duration_s,
        bit_rate=result.bit_rate,
        size=result.size,
        video_codec=video.codec if video else None,
        video_profile=video.profile if video else None,
        width=video.width if video else None,
        height=video.height if video else None,
        frame_rate=video.frame_rate if video else None,
        pix_fmt=video.pix_fmt if video else None,
        field_order=video.field_order if video else None,
        audio=tuple(
            read.AudioTrack(a.codec, a.channels, a.sample_rate, a.language) for a in result.audio
        ),
        subtitle_count=result.subtitle_count,
        creation_time=result.creation_time,
        timecode=result.timecode,
        error=result.error,
        bytes_read=result.bytes_read,
        reads=result.reads,
        strategy=result.strategy,
        probe_ms=result.probe_ms,
        browser_playable=bool(result.browser_playable),
        probed_size=probed_size,
        probed_mtime=probed_mtime,
        probed_at=at,
        updated_at=at,
    )


def store(
    conn: sqlite3.Connection,
    file_id: str,
    result: ProbeResult,
    probed_size: int | None,
    probed_mtime: float | None,
    now: Clock,
) -> None:
    """Insert or replace the media_info row of ``file_id`` from ``result``.

    ``probed_size`` / ``probed_mtime`` are the file's size and mtime the probe saw (a later
    change of either makes the row stale). Call inside ``db.transaction`` to batch writes.
    Read it back with ``catalog.read.media_info``.
    """
    info = info_of(result, probed_size, probed_mtime, timestamp(now()))
    conn.execute(_UPSERT, (file_id, *read.media_values(info)))
