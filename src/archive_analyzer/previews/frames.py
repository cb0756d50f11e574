"""Key frames at chosen times, read through a Source with libavformat (PyAV).

For each time the demuxer seeks (by its index where the container has one: MP4 ``stss``,
MXF index tables, Matroska cues; by timestamp search in MPEG-TS) to the key frame at or
before it, and only that frame is decoded (``skip_frame=NONKEY``): the bytes read are the
index, the seek's probes and the key frame itself, never the file from its start. For
all-intra formats (ProRes, DNxHR, AVC-Intra) every frame is a key frame, so each point reads
one frame. In MPEG-TS (no index) the timestamp search lands on the packet before the time,
and packets are read up to the next key frame; once two key frames are known, the next ones
are predicted from the GOP length and the search aims just before them.

``open_frames(source, path)`` gives a ``FrameReader``; ``frames_at(source, path, times,
width)`` is the small function other features use (issue 18's perceptual hashes).
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import av

from archive_analyzer.errors import ArchiveError, SourceError
from archive_analyzer.sources.base import Source

# What libavformat may read to find the streams (the key frames carry their own headers).
_OPEN_OPTIONS = {"probesize": "2000000", "analyzeduration": "2000000"}
_BUFFER = 32 * 1024
# In MPEG-TS, give up on a point after this many packets without a key frame.
_MAX_PACKETS = 2000
# How far before a key frame's presentation time the timestamp search aims (its decode time
# runs ahead by the reordering delay, a few frames).
_BEFORE_KEY_S = 0.2


class FrameError(ArchiveError):
    """No video stream, or libavformat could not read the file."""


class _Counting(io.RawIOBase):
    """A read-only file object that counts the bytes and reads passed through it."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.bytes = 0
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.bytes += len(data)
        self.reads += 1
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded key frame: where it is (seconds on the file's timeline from its start) and
    the frame (``av.VideoFrame``; ``frame.to_image()`` gives a PIL image when Pillow is
    installed)."""

    time_s: float
    frame: Any


class FrameReader:
    """One open file: ``frame_at(t)`` returns the key frame at or near ``t``."""

    def __init__(self, handle: BinaryIO) -> None:
        self._file = _Counting(handle)
        try:
            self._container = av.open(
                self._file, mode="r", options=dict(_OPEN_OPTIONS), buffer_size=_BUFFER
            )
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            raise FrameError(f"cannot open for frames: {exc}") from exc
        videos = [s for s in self._container.streams.video if not _attached_picture(s)]
        if not videos:
            self._container.close()
            raise FrameError("no video stream")
        self.stream = videos[0]
        self.stream.codec_context.skip_frame = "NONKEY"
        self.stream.thread_type = "SLICE"  # frame threads would hold frames back
        base = self.stream.time_base
        self._base = float(base) if base else 1 / 90000
        start = self.stream.start_time
        if start is None:
            start = self._container.start_time or 0
            start = int(start / 1_000_000 / self._base) if self._container.start_time else 0
        self._start = int(start)
        self._keys: list[float] = []  # the first key frame found (seconds from the start)
        # MPEG-TS / PS have no index: key frames are predicted from the GOP length
        self._indexless = self._container.format.name in ("mpegts", "mpeg", "mpegtsraw")
        self._gop: float | None = None
        self._measured = False
        self.started = time.monotonic()

    @property
    def sample_aspect_ratio(self) -> float | None:
        for owner in (self.stream, self.stream.codec_context):
            ratio = getattr(owner, "sample_aspect_ratio", None)
            if ratio:
                return float(ratio)
        return None

    @property
    def bytes_read(self) -> int:
        return self._file.bytes

    @property
    def reads(self) -> int:
        return self._file.reads

    @property
    def duration_s(self) -> float | None:
        if self.stream.duration:
            return float(self.stream.duration * self._base)
        if self._container.duration:
            return float(self._container.duration / 1_000_000)
        return None

    def frame_at(self, t: float) -> Frame | None:
        """The key frame at or before ``t`` (MPEG-TS: the next one unless predicted), or None."""
        aim = t
        if self._indexless:
            # The timestamp search compares decode times and lands on the last packet at or
            # before the aim: aim a little before the key frame expected at or before t.
            aim = t - _BEFORE_KEY_S
            if self._gop and self._keys:
                first = self._keys[0]
                aim = first + max(0, int((t - first) / self._gop + 1e-6)) * self._gop
                aim -= _BEFORE_KEY_S
        target = self._start + int(aim / self._base)
        try:
            self._container.seek(target, stream=self.stream, backward=True, any_frame=False)
        except av.error.FFmpegError:
            return None
        decoder = self.stream.codec_context
        packets = 0
        found: Frame | None = None
        try:
            for packet in self._container.demux(self.stream):
                packets += 1
                if packets > _MAX_PACKETS:
                    return found
                if packet.size == 0 or not packet.is_keyframe:
                    continue
                if found is not None:
                    # the second key frame of an MPEG-TS: the GOP length, measured once
                    if packet.pts is not None:
                        gop = (packet.pts - self._start) * self._base - found.time_s
                        self._gop = gop if gop > 0.04 else None
                    return found
                frames = decoder.decode(packet)
                if not frames:
                    frames = decoder.decode(None)  # drain the one frame held back
                    decoder.flush_buffers()
                if not frames:
                    continue
                pts = frames[0].pts if frames[0].pts is not None else packet.pts
                at = max(0.0, (pts - self._start) * self._base) if pts is not None else t
                found = Frame(at, frames[0])
                if self._indexless and self._gop and self._keys:
                    expected = self._keys[0]
                    expected += round((at - expected) / self._gop) * self._gop
                    if abs(at - expected) > 0.05:
                        self._gop = None  # irregular GOPs: read forward from now on
                if not self._keys:
                    self._keys.append(at)
                if not (self._indexless and self._gop is None and len(self._keys) == 1):
                    return found
                if packets > 1 and self._measured:
                    return found
                self._measured = True
        except av.error.FFmpegError:
            return found
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._container.close()


def _attached_picture(stream: Any) -> bool:
    disposition = getattr(stream, "disposition", None)
    try:
        return bool(disposition is not None and int(disposition) & 0x400)
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def open_frames(source: Source, path: str) -> Iterator[FrameReader]:
    """A ``FrameReader`` on ``path`` read through ``source`` (closed afterwards).

    Raises ``SourceError`` when the file cannot be opened, ``FrameError`` when it has no
    video libavformat can read.
    """
    try:
        handle = source.open(path)
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc}") from exc
    try:
        reader = FrameReader(handle)
        try:
            yield reader
        finally:
            reader.close()
    finally:
        handle.close()


def scaled(frame: Any, width: int, sar: float | None = None) -> Any:
    """``frame`` scaled to ``width`` (even height, square pixels) as full-range YUV 4:2:0;
    ``sar`` is the stream's sample aspect ratio (anamorphic SD: 16:9 from 720x576)."""
    display = frame.width * (sar or 1.0)
    height = max(2, round(width * frame.height / display / 2) * 2) if display else width * 9 // 16
    return frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")


def frames_at(
    source: Source, path: str, times: Sequence[float], width: int = 320
) -> Iterator[tuple[float, Any]]:
    """``(asked time, frame)`` for each time that has a key frame, scaled to ``width``; each
    frame an ``av.VideoFrame`` (``.to_image()`` with Pillow). For other features (issue 18)."""
    with open_frames(source, path) as reader:
        for t in times:
            found = reader.frame_at(t)
            if found is not None:
                yield t, scaled(found.frame, width, reader.sample_aspect_ratio)
