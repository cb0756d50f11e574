"""Perceptual hashes of video frames at fixed times: the evidence for "same programme".

Two encodings of one broadcast (a ProRes master and its H.264 copy) share no bytes but show
the same pictures at the same times. ``frame_times`` picks times on a grid that depends only
on the duration, so two files whose durations agree within half a second mostly get the same
times; ``compare`` matches the hashes at the times both have. Frames come from
``grab_frames`` (PyAV decoding through the source's file object, seeking through the
container's index), the one seam to switch to the preview frames of issue 15 when they land.
Hashes are ``imagehash.phash`` (64-bit DCT hash): robust to re-encoding, scaling and colour
range, far apart for different pictures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import av
import imagehash
from PIL import Image

from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

FRAMES = 8  # frames per file
GRID_S = 10.0  # the preview strips' spacing (issue 15); short files use whole seconds
MAX_DISTANCE = 10  # Hamming distance (of 64 bits) below which two frames are "the same"
MIN_COMMON = 3  # times both files must have
MIN_SHARE = 0.75  # of the common times that must match

FrameSource = Callable[[Source, str, Sequence[float]], dict[float, Image.Image]]


def frame_times(duration_s: float | None, count: int = FRAMES) -> list[float]:
    """Times (seconds from the start) spread over the file, on a 10 s grid (1 s for files
    under 100 s), avoiding the first and last half second."""
    if not duration_s or duration_s <= 1.0:
        return []
    step = GRID_S if duration_s >= 10 * GRID_S else 1.0
    times = {step * round(duration_s * k / (count + 1) / step) for k in range(1, count + 1)}
    return sorted(t for t in times if 0.5 <= t <= duration_s - 0.5)


def grab_frames(source: Source, path: str, times: Sequence[float]) -> dict[float, Image.Image]:
    """The first video frame at or after each time in ``times`` (decoded with PyAV)."""
    found: dict[float, Image.Image] = {}
    if not times:
        return found
    with source.open(path) as handle:
        container: Any = av.open(handle, mode="r")
        try:
            if not container.streams.video:
                return found
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base
            origin = float(stream.start_time * base) if stream.start_time is not None else 0.0
            for at in times:
                container.seek(int((at + origin) / base), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    if float(frame.pts * base) - origin >= at - 1e-3:
                        found[at] = frame.to_image()
                        break
        finally:
            container.close()
    return found


def phash(image: Image.Image) -> str:
    return str(imagehash.phash(image))


def hashes(
    source: Source, path: str, duration_s: float | None, *, grab: FrameSource = grab_frames
) -> dict[float, str]:
    """Perceptual hashes of the frames at ``frame_times(duration_s)``."""
    times = frame_times(duration_s)
    return {at: phash(image) for at, image in grab(source, path, times).items()}


@dataclass(frozen=True, slots=True)
class Match:
    """How two files' frames compare: at how many common times, how many matched, and the
    distances (for the report's evidence)."""

    compared: int
    matched: int
    distances: tuple[int, ...]

    @property
    def same(self) -> bool:
        return self.compared >= MIN_COMMON and self.matched >= MIN_SHARE * self.compared


def compare(a: Mapping[float, str], b: Mapping[float, str]) -> Match:
    common = sorted(set(a) & set(b))
    distances = tuple(imagehash.hex_to_hash(a[t]) - imagehash.hex_to_hash(b[t]) for t in common)
    matched = sum(1 for d in distances if d <= MAX_DISTANCE)
    return Match(len(common), matched, tuple(int(d) for d in distances))
