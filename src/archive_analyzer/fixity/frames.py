"""Perceptual hashes of video frames at fixed times: the evidence for "same programme".

Two encodings of one broadcast (a ProRes master and its H.264 copy) share no bytes but show
the same pictures at the same times. ``frame_times`` picks whole multiples of a step from a
divisibility chain (1, 2, 10, 20, 40 ... s; at most ``FRAMES`` frames), so two files whose
durations differ a little get the same times, or one gets a subset of the other's (the step
one link coarser): never a shifted grid. From 160 s up the times are multiples of 10 s, the
preview strips' spacing. ``compare`` matches the hashes at the times both have.

Frames come from ``grab_frames``: PyAV seeks to a key frame before each time and decodes up
to the frame at that time. The preview strips' frames (``previews/frames.py``) are not
reused: they are the key frames at or before each point, which in a long-GOP encode (x264's
default: up to 10 s) show another moment than the master's frame at that time. Measured in
docs/fixity.md ("Why not the preview frames"): re-using them lost every ProRes/H.264 pair
but the one with a fixed GOP on the 10 s grid, while the exact frames matched 8 of 9. The
second read costs at most ``FRAMES`` seeks per file, next to a hash pass that reads it all.
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

FRAMES = 16  # at most this many frames per file
# Steps in seconds, each dividing the next: a coarser grid is always a subset of a finer one.
STEPS = (1, 2, *(10 * 2**k for k in range(24)))
MAX_DISTANCE = 10  # Hamming distance (of 64 bits) below which two frames are "the same"
MIN_COMMON = 3  # times both files must have
MIN_SHARE = 0.75  # of the common times that must match
SEEK_RETRIES = 5  # seeks per frame, each further back (1, 4, 16, 64 s) when one lands late

FrameSource = Callable[[Source, str, Sequence[float]], dict[float, Image.Image]]


def frame_times(duration_s: float | None, count: int = FRAMES) -> list[float]:
    """Multiples of the finest step in ``STEPS`` that gives at most ``count`` times before
    the last half second of the file."""
    if not duration_s or duration_s <= 1.5:
        return []
    last = duration_s - 0.5
    step = next(s for s in STEPS if int(last // s) <= count)
    return [float(step * i) for i in range(1, int(last // step) + 1)]


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
                image = _frame_at(container, stream, at, origin)
                if image is not None:
                    found[at] = image
        finally:
            container.close()
    return found


def _frame_at(container: Any, stream: Any, at: float, origin: float) -> Image.Image | None:
    """The first frame at or after ``at``, decoded from a key frame before it. Without an
    index (MPEG-TS) libavformat's timestamp seek can land on the key frame *after* ``at`` (a
    broadcast TS vs its master matched 8 of 19 frames so): then seek again further back."""
    base = stream.time_base
    back = 0.0
    for _ in range(SEEK_RETRIES):
        container.seek(int((at - back + origin) / base), stream=stream, backward=True)
        first: float | None = None
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            shown = float(frame.pts * base) - origin
            if first is None:
                first = shown
                if shown > at + 1e-3 and at - back > 0:
                    break  # landed after the time: its frame was skipped
            if shown >= at - 1e-3:
                image: Image.Image = frame.to_image()
                return image
        else:
            return None
        back = max(1.0, back * 4)
    return None


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
