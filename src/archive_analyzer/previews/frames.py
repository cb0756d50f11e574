"""Key frames at chosen times, read through a Source with libavformat (PyAV).

For each time the demuxer seeks (by its index where the container has one: MP4 ``stss``,
MXF index tables, Matroska cues; by timestamp search in MPEG-TS) to the key frame at or
before it, and only that frame is decoded (``skip_frame=NONKEY``): the bytes read are the
index, the seek's probes and the key frame itself, never the file from its start. For
all-intra formats (ProRes, DNxHR, AVC-Intra) every frame is a key frame, so each point reads
one frame. MPEG-TS and PS have no index: libavformat's timestamp search there bisects the
whole file with a buffer refill per step (measured: 18 % of a 720p TS read for a strip at
10 s). Instead, ``FrameReader`` searches by bytes itself: it interpolates the position of a
time between the packets it has already seen (a broadcast TS is close to constant bit rate,
so one or two probes land), seeks there by byte offset and reads packets up to the next key
frame. Once two key frames are known, the next ones are predicted from the GOP length and
the search aims just before them, so each point reads little more than its key frame. A key
frame off that grid (a scene cut in an encode with short GOPs) ends the prediction: from then
on each point scans the packets back from itself (read, not decoded) for the last key frame
at or before it, exhaustively within 3 s (or 1.5 of the longest GOP seen), so each point
costs the stream from its key frame to it, plus a landing.

``open_frames(source, path)`` gives a ``FrameReader`` over the source's ``FileReader`` (issue
13's reader; exact positional reads); ``frames_at(source, path, times, width)`` is the small
function other features use for key frames near given times. Issue 18's perceptual hashes do
not use it: they need the frame *at* each time, and in a long-GOP encode the key frame before
it shows another moment (measured in docs/fixity.md, "Why not the preview frames").
"""

from __future__ import annotations

import contextlib
import io
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import av

from archive_analyzer.errors import ArchiveError, SourceError
from archive_analyzer.sources.base import FileInfo, Source
from archive_analyzer.sources.rangefile import RangeFile

# What libavformat may read to find the streams (the key frames carry their own headers).
_OPEN_OPTIONS = {"probesize": "2000000", "analyzeduration": "2000000"}
_BUFFER = 32 * 1024
# In MPEG-TS, give up on a point after this many packets without a key frame.
_MAX_PACKETS = 2000
# How far before a key frame's presentation time the search aims until the reordering delay
# (decode time ahead of presentation, a few frames) has been seen; then that delay plus a
# margin.
_BEFORE_KEY_S = 0.2
_MARGIN_S = 0.04
# An index-less byte search accepts a landing at most this long before its aim, and gives up
# (reading from the best landing) after this many probes.
_SLACK_S = 0.15
_MAX_PROBES = 6
# A probe reads at least a 32 KB buffer, and when it lands inside a large packet (a key frame)
# libavformat reads on to the next one: a bracket this small is cheaper read through.
_READ_THROUGH = 3 * _BUFFER
_TS_PACKET = 188
# MPEG-TS with irregular GOPs: scan back from a point for its last key frame this far (or 1.5
# of the longest GOP seen, if less); further back, take the first key frame found.
_WINDOW_MAX_S = 3.0
# Timestamps within this of a point count as at it (rounding of the time base).
_EPSILON_S = 0.001


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
        self._size = handle.seek(0, io.SEEK_END)
        handle.seek(0)
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
        # key frames off the GOP grid (scene cuts): scan back from each point instead
        self._irregular = False
        self._longest = 0.0  # the longest GOP seen (seconds)
        # (seconds, byte position) of packets seen: the index-less search interpolates these
        self._anchors: list[tuple[float, int]] = []
        # how far a key frame's decode time runs ahead of its presentation (B-frames)
        self._reorder: float | None = None
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
        """The key frame at or before ``t``, or None. MPEG-TS: the last one at or before ``t``
        (predicted while the GOPs are regular, found by scanning back from ``t`` once they are
        not), at most ``_WINDOW_MAX_S`` early unless the GOPs are longer."""
        if not self._indexless:
            return self._seek_frame_at(t)
        if not self._irregular:
            found = self._seek_frame_at(t)
            if found is None and self._gop and not self._irregular:
                # nothing from the predicted key frame on (the file ends before it): the one
                # a GOP earlier, one more landing (a scan back would read a GOP of stream)
                found = self._seek_frame_at(max(0.0, t - self._gop))
            if found is not None and found.time_s <= t + _EPSILON_S and not self._irregular:
                return found
            if self._gop is None and self._measured:
                self._irregular = True  # no GOP length to predict from
        return self._last_key_before(t)

    def _seek_frame_at(self, t: float) -> Frame | None:
        aim = t
        predicted: float | None = None  # the key frame expected, on the GOP grid
        if self._indexless:
            # The byte search compares decode times and lands on a packet at or before the
            # aim: aim before the key frame expected at or before t by its decode delay.
            before = _BEFORE_KEY_S if self._reorder is None else self._reorder + _MARGIN_S
            aim = t - before
            if self._gop and self._keys:
                first = self._keys[0]
                predicted = first + max(0, int((t - first) / self._gop + 1e-6)) * self._gop
                aim = predicted - before
        try:
            if self._indexless:
                landed = self._land(max(0.0, aim))
            else:
                target = self._start + int(aim / self._base)
                self._container.seek(target, stream=self.stream, backward=True, any_frame=False)
                landed = self._container.demux(self.stream)
        except av.error.FFmpegError:
            return None
        decoder = self.stream.codec_context
        packets = 0
        found: Frame | None = None
        try:
            for packet in landed:
                packets += 1
                if packets > _MAX_PACKETS:
                    return found
                if packet.size == 0 or not packet.is_keyframe:
                    continue
                if (
                    predicted is not None
                    and packet.pts is not None
                    and (packet.pts - self._start) * self._base < predicted - 0.05
                ):
                    continue  # a landing well before the aim: not the key frame predicted
                self._note_delay(packet)
                if found is not None:
                    # the second key frame of an MPEG-TS: the GOP length, measured once
                    if packet.pts is not None:
                        gop = (packet.pts - self._start) * self._base - found.time_s
                        self._gop = gop if gop > 0.04 else None
                        self._longest = max(self._longest, gop)
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
                        # a key frame off the grid (a scene cut): the prediction cannot say
                        # whether another lies between it and t; scan back from now on
                        self._irregular = True
                        return None
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

    def _last_key_before(self, t: float) -> Frame | None:
        """MPEG-TS with irregular GOPs: the last key frame at or before ``t``. Packets are
        scanned (read, not decoded) from a landing half a GOP before ``t`` up to the first one
        that decodes after ``t``; while no key frame is found the landing steps back by half a
        GOP and the scan stops where the previous one began, so each byte is read about once
        and a point costs the stream from its key frame to ``t`` plus a landing or two. Past
        ``_WINDOW_MAX_S`` (or 1.5 of the longest GOP seen, if smaller) the scan stops being
        exhaustive: the first key frame found going back is taken (still at or before ``t``,
        since everything after it was scanned, but maybe not the last one)."""
        before = _BEFORE_KEY_S if self._reorder is None else self._reorder + _MARGIN_S
        window = min(_WINDOW_MAX_S, max(1.0, 1.5 * self._longest))
        stride = max(0.25, self._longest / 2)
        # Half a GOP back first: a probe costs a 32 KB read plus, when it lands inside a key
        # frame, the rest of that frame, so fewer landings beat a shorter scan (measured on
        # tests' scene-cut TS: 45 % of it for a point every 3 s; from just before t, 55 %; a
        # whole GOP back, 51 %).
        step = before + self._longest / 2
        stop: int | None = None  # the previous scan began here: everything after is known
        while True:
            aim = max(0.0, t - step)
            exhaustive = step <= window
            try:
                landed = self._land(aim, max(_SLACK_S, stride / 2), tight=True)
                best, began = self._scan(landed, t, stop, exhaustive)
                if best is not None:
                    return self._decode_key(best, t)
            except av.error.FFmpegError:
                return None
            if aim <= 0.0 or began is None:
                return None
            stop = began if stop is None else min(stop, began)
            step = step + stride if exhaustive else step * 2

    def _scan(
        self, packets: Iterator[Any], t: float, stop: int | None, exhaustive: bool
    ) -> tuple[Any, int | None]:
        """(the last key frame packet at or before ``t`` in ``packets`` before byte ``stop``,
        or the first one if not ``exhaustive``; the byte position of the first packet)."""
        best: Any = None
        began: int | None = None
        previous: float | None = None  # the last key frame seen in this scan
        for count, packet in enumerate(packets):
            if count >= _MAX_PACKETS:
                break
            pos = packet.pos if packet.pos is not None and packet.pos >= 0 else None
            if pos is not None:
                if began is None:
                    began = pos
                if stop is not None and pos >= stop:
                    break
            stamp = packet.dts if packet.dts is not None else packet.pts
            if stamp is not None and (stamp - self._start) * self._base > t + _EPSILON_S:
                break  # decodes after t, so shows after t, as does all that follows
            if packet.size == 0 or not packet.is_keyframe or packet.pts is None:
                continue
            at = (packet.pts - self._start) * self._base
            if at > t + _EPSILON_S:
                break
            self._note_delay(packet)
            if pos is not None and packet.dts is not None:
                self._anchor(packet)  # key frames are where later landings aim
            if previous is not None:
                self._longest = max(self._longest, at - previous)
            previous = at
            best = packet
            if not exhaustive:
                break
        return best, began

    def _decode_key(self, packet: Any, t: float) -> Frame | None:
        decoder = self.stream.codec_context
        frames = decoder.decode(packet)
        if not frames:
            frames = decoder.decode(None)  # drain the one frame held back
            decoder.flush_buffers()
        if not frames:
            return None
        pts = frames[0].pts if frames[0].pts is not None else packet.pts
        at = max(0.0, (pts - self._start) * self._base) if pts is not None else t
        return Frame(at, frames[0])

    def _note_delay(self, packet: Any) -> None:
        """How far a key frame's decode time runs ahead of its presentation (B-frames)."""
        if packet.pts is not None and packet.dts is not None:
            delay = max(0.0, (packet.pts - packet.dts) * self._base)
            self._reorder = max(self._reorder or 0.0, delay)

    def _land(self, aim: float, slack: float = _SLACK_S, tight: bool = False) -> Iterator[Any]:
        """Packets of the video stream from a byte position at most ``slack`` before ``aim``
        (seconds from the start), found by interpolating the packets seen so far; ``tight``
        bounds an overshooting probe by its byte position rather than its packet's (the
        predicted search keeps its measured probes)."""
        lo: tuple[float, int] = (0.0, 0)
        duration = self.duration_s
        hi: tuple[float, int] | None = (duration, self._size) if duration else None
        for known in self._anchors:
            if known[0] <= aim and known[0] >= lo[0]:
                lo = known
            elif known[0] > aim and (hi is None or known[0] < hi[0]):
                hi = known
        overshot = 0  # probes in a row that landed after the aim
        for _ in range(_MAX_PROBES):
            if aim - lo[0] <= slack or hi is None or hi[1] - lo[1] <= _READ_THROUGH:
                break
            # aim for the middle of the accepted window, between the bracketing packets
            share = (aim - slack / 2 - lo[0]) / (hi[0] - lo[0]) if hi[0] > lo[0] else 0.5
            if overshot >= 3:
                share = 0.5  # the bit rate is far from even here: interpolation creeps
            pos = lo[1] + int(min(0.95, max(0.05, share)) * (hi[1] - lo[1]))
            pos -= pos % _TS_PACKET
            packets = self._from_byte(pos)
            first = self._first_timed(packets)
            if first is None:  # nothing after pos: the bracket's top is at most pos
                hi = (hi[0], pos)
                continue
            at = self._anchor(first)
            overshot = overshot + 1 if at > aim else 0
            if at <= aim:
                lo = (at, first.pos)
                if aim - at <= slack:
                    return itertools.chain([first], packets)
            else:
                # No packet starts between pos and first.pos (a large one, often the very key
                # frame aimed at, covers pos): what decodes at the aim starts before pos.
                hi = (at, pos) if tight else (at, first.pos)
        return self._from_byte(lo[1])

    def _from_byte(self, pos: int) -> Iterator[Any]:
        self._container.seek(pos, unsupported_byte_offset=True)
        return self._container.demux(self.stream)

    def _first_timed(self, packets: Iterator[Any]) -> Any:
        for packet in packets:
            timed = packet.dts is not None or packet.pts is not None
            if packet.size and packet.pos is not None and packet.pos >= 0 and timed:
                return packet
        return None

    def _anchor(self, packet: Any) -> float:
        """Remember where ``packet`` is (its decode time: the file's order); returns it."""
        stamp = packet.dts if packet.dts is not None else packet.pts
        at = (stamp - self._start) * self._base
        self._anchors.append((at, packet.pos))
        return float(at)

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
def open_frames(
    source: Source, path: str, *, expect: FileInfo | None = None
) -> Iterator[FrameReader]:
    """A ``FrameReader`` on ``path`` read through ``source``'s ``FileReader`` (closed
    afterwards). libavformat's reads become exact positional reads (``read_at``: no
    read-ahead, so the bytes read are the bytes asked for); ``expect`` is the version the
    caller means (the catalog's size and mtime): ``FileChanged`` if the file differs or
    changes while it is read.

    Raises ``SourceError`` when the file cannot be opened, ``FrameError`` when it has no
    video libavformat can read.
    """
    try:
        file = source.open_reader(path, expect=expect)
        size = file.info.size
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc}") from exc
    try:
        handle = RangeFile(file.read_at, size, path)
        reader = FrameReader(cast(BinaryIO, handle))
        try:
            yield reader
        finally:
            reader.close()
    finally:
        file.close()


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
    frame an ``av.VideoFrame`` (``.to_image()`` with Pillow): the key frame at or before each
    time, not the frame at it."""
    with open_frames(source, path) as reader:
        for t in times:
            found = reader.frame_at(t)
            if found is not None:
                yield t, scaled(found.frame, width, reader.sample_aspect_ratio)
