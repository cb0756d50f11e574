"""Tiling frames into JPEG sprites and writing the WebVTT thumbnails track (libavfilter's
``tile`` and the MJPEG encoder through PyAV: no image library needed)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import av

COLUMNS = 10
ROWS = 10
QUALITY = 5  # MJPEG qscale (2 best .. 31 worst), like ffmpeg -q:v


def jpeg(frame: Any, quality: int = QUALITY) -> bytes:
    """One frame (full-range YUV 4:2:0) as JPEG bytes."""
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width = frame.width
    encoder.height = frame.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"flags": "+qscale", "global_quality": str(quality * 118)}
    packets = list(encoder.encode(frame)) + list(encoder.encode(None))
    return b"".join(bytes(p) for p in packets)


def tile(frames: Sequence[Any], columns: int = COLUMNS, rows: int = ROWS) -> list[Any]:
    """Frames of one size tiled ``columns`` x ``rows`` per sprite, left to right, top down;
    the last sprite is shorter when fewer frames are left."""
    if not frames:
        return []
    width, height = frames[0].width, frames[0].height
    sprites: list[Any] = []
    per = columns * rows
    for first in range(0, len(frames), per):
        chunk = frames[first : first + per]
        used_rows = (len(chunk) + columns - 1) // columns
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=width, height=height, format=av.VideoFormat("yuvj420p"), time_base=Fraction(1, 1)
        )
        tiler = graph.add("tile", f"{columns}x{used_rows}")
        sink = graph.add("buffersink")
        source.link_to(tiler)
        tiler.link_to(sink)
        graph.configure()
        for i, frame in enumerate(chunk):
            frame.pts = i
            graph.push(frame)
        graph.push(None)
        while True:
            try:
                sprites.append(graph.pull())
            except (av.error.BlockingIOError, av.error.EOFError):
                break
    return sprites


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt(
    count: int,
    interval_s: float,
    duration_s: float,
    width: int,
    height: int,
    columns: int = COLUMNS,
    rows: int = ROWS,
    name: str = "sprite-{n}.jpg",
) -> str:
    """The WebVTT thumbnails track: frame i covers [i x interval, next) and points at its
    tile (``sprite-N.jpg#xywh=x,y,w,h``, relative to the track's URL)."""
    lines = ["WEBVTT", ""]
    per = columns * rows
    for i in range(count):
        start = i * interval_s
        end = min(duration_s, (i + 1) * interval_s) if i == count - 1 else (i + 1) * interval_s
        end = max(end, start + 0.001)
        n, k = divmod(i, per)
        x, y = (k % columns) * width, (k // columns) * height
        lines += [
            f"{_stamp(start)} --> {_stamp(end)}",
            f"{name.format(n=n)}#xywh={x},{y},{width},{height}",
            "",
        ]
    return "\n".join(lines)
