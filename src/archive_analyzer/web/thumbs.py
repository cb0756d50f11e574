"""Poster frames: one small JPEG per file version, taken about 10 % in with an input seek.

ffmpeg seeks before it opens the decoder (``-ss`` before ``-i``), decodes one frame and scales
it, so a 90 GB master costs an index lookup and a GOP, never a full read. What it read comes
from ffmpeg's own I/O statistics (``-v verbose``: "Statistics: N bytes read, M seeks") for
both local paths and the loopback HTTP input, and is stored in ``thumbnails`` with the time
taken. A file whose frame cannot be made is recorded with the reason and not retried until
it changes.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from archive_analyzer.catalog import db

POSITION = 0.10
_STATS = re.compile(r"Statistics: (\d+) bytes read, (\d+) seeks")


@dataclass(frozen=True, slots=True)
class ThumbRecord:
    """A stored outcome for one file version."""

    file: str
    size: int
    mtime: float
    position_s: float | None
    bytes_read: int
    seeks: int
    ms: float
    error: str | None


def position(duration_s: float | None) -> float:
    """Where to take the poster frame: ``POSITION`` of the way in (0 when unknown)."""
    if not duration_s or duration_s <= 0:
        return 0.0
    return round(duration_s * POSITION, 3)


def args(
    source: str,
    output: str,
    at_s: float,
    width: int,
    input_options: Sequence[str] = (),
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The ffmpeg command for one scaled JPEG frame at ``at_s`` of ``source``.

    ``input_options`` go before ``-i`` (``hls.input_options``: e.g. seek fragmented MP4 by
    its ``mfra`` index).
    """
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-v",
        "verbose",
        "-y",
        *input_options,
        "-ss",
        f"{at_s:.3f}",
        "-i",
        source,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-an",
        "-sn",
        "-dn",
        "-vf",
        f"yadif=deint=interlaced,scale={width}:-2:flags=bicubic",
        "-pix_fmt",
        "yuvj420p",
        "-q:v",
        "5",
        "-f",
        "image2",
        "-c:v",
        "mjpeg",
        output,
    ]


def read_stats(stderr: str) -> tuple[int, int]:
    """(bytes read, seeks) summed over ffmpeg's input I/O contexts."""
    total = seeks = 0
    for match in _STATS.finditer(stderr):
        total += int(match.group(1))
        seeks += int(match.group(2))
    return total, seeks


def cache_name(file_id: str, size: int, mtime: float, at_s: float | None = None) -> str:
    """The cached frame of one file version (``at_s``: a frame at that time, not the default)."""
    at = "" if at_s is None else f"-at{round(at_s * 1000)}"
    return f"{file_id[:2]}/{file_id}-{size}-{int(mtime * 1000)}{at}.jpg"


def load(conn: sqlite3.Connection, file_id: str) -> ThumbRecord | None:
    row = conn.execute(
        "SELECT file, size, mtime, position_s, bytes_read, seeks, ms, error FROM thumbnails "
        "WHERE file = ?",
        (file_id,),
    ).fetchone()
    return None if row is None else ThumbRecord(*row)


def store(conn: sqlite3.Connection, record: ThumbRecord, now: db.Clock) -> None:
    """Insert or replace the outcome for ``record.file``."""
    at = db.timestamp(now())
    conn.execute(
        "INSERT INTO thumbnails (file, size, mtime, position_s, bytes_read, seeks, ms, error, "
        "made_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (file) DO UPDATE SET "
        "size = excluded.size, mtime = excluded.mtime, position_s = excluded.position_s, "
        "bytes_read = excluded.bytes_read, seeks = excluded.seeks, ms = excluded.ms, "
        "error = excluded.error, made_at = excluded.made_at, updated_at = excluded.updated_at",
        (
            record.file,
            record.size,
            record.mtime,
            record.position_s,
            record.bytes_read,
            record.seeks,
            record.ms,
            record.error,
            at,
            at,
        ),
    )


class Stopwatch:
    """Milliseconds since creation (monotonic)."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    @property
    def ms(self) -> float:
        return round((time.monotonic() - self._start) * 1000, 1)
