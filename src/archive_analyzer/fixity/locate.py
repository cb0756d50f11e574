"""Where a byte range of a media file lies in time, for a fixity failure's report.

The container's own timestamps answer it: libavformat (PyAV) seeks to a time through the
container's index (MP4/MOV sample tables, Matroska cues, MXF index tables; a bisection over
timestamps for MPEG-TS) and reports the byte position of the packet it lands on, so a
bisection over time finds the times whose packets sit at the range's first and last byte, to
the nearest keyframe. Each step reads one packet near a seek point, so this costs a few MB
even on a 90 GB file. When the container cannot be read that way the range is estimated from
the average bit rate (method ``estimate``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

_STEPS = 18  # bisection steps: duration / 2**18, below a frame for a 3-hour file
_PACKETS = 64  # packets demuxed after a seek looking for one with a byte position


@dataclass(frozen=True, slots=True)
class TimeRange:
    start_s: float
    end_s: float
    method: str  # 'timestamps' or 'estimate'


def estimate(byte_from: int, byte_to: int, size: int, duration_s: float) -> TimeRange:
    """The range assuming a constant bit rate."""
    scale = duration_s / size if size else 0.0
    return TimeRange(round(byte_from * scale, 3), round(byte_to * scale, 3), "estimate")


def time_range(
    source: Source, path: str, byte_from: int, byte_to: int, *, size: int,
    duration_s: float | None,
) -> TimeRange | None:  # fmt: skip
    """The media time held by bytes ``byte_from``-``byte_to`` of ``path``, or None when the
    file has no known duration."""
    if not duration_s or duration_s <= 0:
        return None
    try:
        found = _by_timestamps(source, path, byte_from, byte_to, duration_s)
    except Exception as exc:  # PyAV's errors and the source's: fall back to the estimate
        log.info("%s: no timestamps for bytes %d-%d (%s); estimating", path, byte_from, byte_to,
                 exc)  # fmt: skip
        found = None
    return found or estimate(byte_from, byte_to, size, duration_s)


def _by_timestamps(
    source: Source, path: str, byte_from: int, byte_to: int, duration_s: float
) -> TimeRange | None:
    with source.open(path) as handle:
        container: Any = av.open(handle, mode="r")
        try:
            streams = container.streams.video or container.streams
            stream = streams[0]
            base: Fraction = stream.time_base
            origin = float(stream.start_time * base) if stream.start_time is not None else 0.0

            def position(at: float) -> tuple[int, float] | None:
                target = int((at + origin) / base)
                container.seek(target, stream=stream, backward=True, any_frame=False)
                for n, packet in enumerate(container.demux(stream)):
                    if n >= _PACKETS:
                        break
                    if packet.pos is not None and packet.pos >= 0 and packet.pts is not None:
                        return int(packet.pos), float(packet.pts * base) - origin
                return None

            start = _bisect(position, byte_from, duration_s, lower=True)
            end = _bisect(position, byte_to, duration_s, lower=False)
        finally:
            container.close()
    if start is None or end is None:
        return None
    return TimeRange(round(max(0.0, start), 3), round(min(duration_s, max(start, end)), 3),
                     "timestamps")  # fmt: skip


def _bisect(position: Any, byte: int, duration_s: float, *, lower: bool) -> float | None:
    """``lower``: the latest packet time whose position is at or before ``byte``; else the
    earliest packet time whose position is at or after it (the end of the file if none)."""
    lo, hi = 0.0, duration_s
    best: float | None = 0.0 if lower else duration_s
    seen = False
    for _ in range(_STEPS):
        mid = (lo + hi) / 2
        found = position(mid)
        if found is None:
            hi = mid
            continue
        seen = True
        pos, at = found
        if pos <= byte:
            if lower:
                best = at
            lo = mid
        else:
            if not lower:
                best = at
            hi = mid
        if hi - lo < 0.01:
            break
    return best if seen else None
