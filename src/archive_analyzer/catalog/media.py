"""media_info rows: what the prober found in each file (one row per file, upserted).

``store`` writes only ``media_info``; the file's ``probe_state`` and its probed /
probe_failed event are recorded by ``catalog.files.set_probe_state`` in the same transaction
(the pipeline's ``ingest`` calls both).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from archive_analyzer.catalog.db import Clock, timestamp
from archive_analyzer.probe.result import ProbeResult

_COLUMNS = (
    "id",
    "status",
    "container",
    "format_long_name",
    "duration_s",
    "bit_rate",
    "size",
    "video_codec",
    "video_profile",
    "width",
    "height",
    "frame_rate",
    "pix_fmt",
    "field_order",
    "audio",
    "subtitle_count",
    "creation_time",
    "timecode",
    "error",
    "bytes_read",
    "reads",
    "strategy",
    "probe_ms",
    "browser_playable",
    "probed_size",
    "probed_mtime",
    "probed_at",
    "updated_at",
)

_UPSERT = (
    f"INSERT INTO media_info ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id")
)


def row_values(
    file_id: str, result: ProbeResult, probed_size: int | None, probed_mtime: float | None, at: str
) -> tuple[Any, ...]:
    """The media_info column values for ``result`` (pure; in ``_COLUMNS`` order)."""
    video = result.video
    audio = [
        {
            "codec": a.codec,
            "channels": a.channels,
            "sample_rate": a.sample_rate,
            "language": a.language,
        }
        for a in result.audio
    ]
    return (
        file_id,
        result.status.value,
        result.container,
        result.format_long_name,
        result.duration_s,
        result.bit_rate,
        result.size,
        video.codec if video else None,
        video.profile if video else None,
        video.width if video else None,
        video.height if video else None,
        video.frame_rate if video else None,
        video.pix_fmt if video else None,
        video.field_order if video else None,
        json.dumps(audio, ensure_ascii=False),
        result.subtitle_count,
        result.creation_time,
        result.timecode,
        result.error,
        result.bytes_read,
        result.reads,
        result.strategy,
        result.probe_ms,
        int(result.browser_playable),
        probed_size,
        probed_mtime,
        at,
        at,
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
    """
    at = timestamp(now())
    conn.execute(_UPSERT, row_values(file_id, result, probed_size, probed_mtime, at))


def load(conn: sqlite3.Connection, file_id: str) -> dict[str, Any] | None:
    """The media_info row of ``file_id`` as a dict (``audio`` decoded), or None."""
    row = conn.execute("SELECT * FROM media_info WHERE id = ?", (file_id,)).fetchone()
    if row is None:
        return None
    data = dict(row)
    data["audio"] = json.loads(data["audio"])
    return data
