"""MP4 / MOV (ISO BMFF, QuickTime): facts from the box headers and the few small boxes.

The top level is walked by box headers only (``ftyp``, ``mdat``, ``moov``, ...): a few 16-byte
reads, wherever ``moov`` sits. Inside ``moov`` only the small boxes are read (``mvhd``, ``tkhd``,
``mdhd``, ``hdlr``, ``stsd``, the head of ``stts``, ``mehd``, ``trex``); the sample tables
(``stsz``, ``stco``/``co64``, ``stsc``, ``stss``, ``ctts``), which are nearly all of a long
file's ``moov``, are skipped by their sizes. Fragmented files (``mvex``) get their duration
from ``mehd``, else ``mfro`` -> ``mfra`` -> the last ``tfra`` entry -> that ``moof``, else the
last ``moof`` found in the file's tail. ``ffprobe``'s names throughout (see ``mp4_entries``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import elementary
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.mp4_entries import SampleEntry, parse_stsd
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo
from archive_analyzer.timecode import Timecode

FORMAT_NAME = "mov,mp4,m4a,3gp,3g2,mj2"
FORMAT_LONG_NAME = "QuickTime / MOV"

TOP_LEVEL = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"moof", b"mfra"}
    | {b"styp", b"sidx", b"meta", b"pdin", b"prft", b"emsg", b"junk", b"PICT", b"ssix"}
)
_CONTAINERS = frozenset({b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"traf", b"moof"})
_SUBTITLE_HANDLERS = frozenset({b"sbtl", b"subt", b"text", b"clcp"})
_MAX_TOP_LEVEL = 100_000
_MAX_CHILDREN = 10_000
_STTS_ENTRIES = 512  # enough to find the dominant sample delta
_IN_BAND = frozenset({"mpeg1video", "mpeg2video", "mpeg4", "dnxhd"})  # headers in the samples
_FRAME_PEEK = 2048  # of the first sample: sequence and first picture headers, DNxHD header
_MAC_EPOCH = datetime(1904, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Box:
    """A box header: ``type`` at ``offset``, ``header`` bytes long, ``size`` bytes in all."""

    type: bytes
    offset: int
    header: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def body(self) -> int:
        return self.offset + self.header


def read_header(reader: Reader, offset: int, limit: int) -> Box | None:
    """The box header at ``offset`` inside ``[offset, limit)``; None when none fits.

    Size 1 means a 64-bit size follows; size 0 means "to ``limit``" (the end of the file or
    of the parent). A box may claim to run past ``limit``: callers decide what that means.
    """
    if limit - offset < 8:
        return None
    head = reader.read(offset, 16)
    if len(head) < 8:
        return None
    size, kind = struct.unpack(">I4s", head[:8])
    header = 8
    if size == 1:
        if len(head) < 16:
            return None
        size = struct.unpack(">Q", head[8:16])[0]
        header = 16
    elif size == 0:
        size = limit - offset
    if size < header:
        raise ParseError(f"box {kind!r} at {offset} has impossible size {size}")
    return Box(kind, offset, header, size)


def children(reader: Reader, parent: Box, skip: int = 0) -> Iterator[Box]:
    """The child boxes of ``parent`` (after ``skip`` bytes of the parent's own fields)."""
    offset = parent.body + skip
    end = min(parent.end, reader.size)
    for _ in range(_MAX_CHILDREN):
        box = read_header(reader, offset, end)
        if box is None:
            return
        yield box
        offset = box.end
    raise ParseError(f"too many boxes in {parent.type!r}")


def body(reader: Reader, box: Box, limit: int | None = None) -> bytes:
    """The box's payload (at most ``limit`` bytes)."""
    length = box.size - box.header
    if limit is not None:
        length = min(length, limit)
    return reader.read(box.body, length)


@dataclass(slots=True)
class _Track:
    handler: bytes = b""
    track_id: int = 0
    timescale: int = 0
    duration: int = 0
    language: str | None = None
    entry: SampleEntry | None = None
    frame_rate: float | None = None
    tkhd_size: tuple[int, int] | None = None
    default_duration: int = 0  # trex default_sample_duration (fragmented)
    timecode: str | None = None  # a ``tmcd`` track's first sample as a label


@dataclass(slots=True)
class _Movie:
    timescale: int = 0
    duration: int = 0
    creation: int = 0
    fragmented: bool = False
    fragment_duration: int = 0  # mehd
    cut_fragment: bool = False  # the last fragment's media data runs past the end of file
    tracks: list[_Track] = field(default_factory=list)


@malformed_is_parse_error("malformed MP4/MOV")
def parse(reader: Reader) -> Facts:
    """Facts of an MP4/MOV file. Raises ``ParseError`` when the bytes are not ISO BMFF."""
    size = reader.size
    moov: Box | None = None
    mdat_seen = False
    past_eof = False
    offset = 0
    for count in range(_MAX_TOP_LEVEL):
        try:
            box = read_header(reader, offset, size)
        except ParseError:
            if count == 0 or moov is not None or not mdat_seen:
                raise
            break  # garbage after an mdat: an unfinished write (see below)
        if box is None:
            break
        if count == 0 and box.type not in TOP_LEVEL:
            raise ParseError(f"not an MP4/MOV file (first box {box.type!r})")
        if not _fourcc_like(box.type):
            if moov is None and not mdat_seen:
                raise ParseError(f"garbage box type {box.type!r} at {offset}")
            break  # media data after a placeholder mdat: an unfinished write (see below)
        if box.type == b"moov":
            moov = box
        elif box.type == b"mdat":
            mdat_seen = True
        if box.end > size:
            past_eof = True
            break
        if moov is not None and box.type == b"moof":
            break  # fragments follow; their total comes from mehd/mfra/the tail
        offset = box.end
    if moov is None:
        if past_eof:
            return _bare(ProbeStatus.TRUNCATED, "file ends before the moov box")
        if mdat_seen:
            # A recorder writes mdat first and moov at the end: the file is still being written.
            return _bare(ProbeStatus.INCOMPLETE, "no moov box yet (still being written?)")
        raise ParseError("no moov box")
    if moov.end > size:
        return _bare(ProbeStatus.TRUNCATED, "file ends inside the moov box")
    movie = _read_moov(reader, moov)
    duration_s = _duration(reader, movie, moov)
    status = ProbeStatus.TRUNCATED if past_eof or movie.cut_fragment else ProbeStatus.OK
    return _facts(movie, duration_s, status)


def _fourcc_like(kind: bytes) -> bool:
    """Box types are four printable ASCII characters (QuickTime allows a few symbols)."""
    return all(32 <= c < 127 for c in kind)


def _bare(status: ProbeStatus, error: str) -> Facts:
    return Facts(FORMAT_NAME, FORMAT_LONG_NAME, status=status, error=error)


def _read_moov(reader: Reader, moov: Box) -> _Movie:
    movie = _Movie()
    for box in children(reader, moov):
        if box.type == b"mvhd":
            _mvhd(body(reader, box, 32), movie)
        elif box.type == b"trak":
            movie.tracks.append(_read_trak(reader, box))
        elif box.type == b"mvex":
            movie.fragmented = True
            _read_mvex(reader, box, movie)
    return movie


def _mvhd(data: bytes, movie: _Movie) -> None:
    if data[0] == 1:
        movie.creation = struct.unpack(">Q", data[4:12])[0]
        movie.timescale, movie.duration = struct.unpack(">IQ", data[20:32])
    else:
        movie.creation = struct.unpack(">I", data[4:8])[0]
        movie.timescale, movie.duration = struct.unpack(">II", data[12:20])
    if movie.duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        movie.duration = 0


def _read_mvex(reader: Reader, mvex: Box, movie: _Movie) -> None:
    for box in children(reader, mvex):
        if box.type == b"mehd":
            data = body(reader, box, 12)
            fmt = ">Q" if data[0] == 1 else ">I"
            movie.fragment_duration = struct.unpack(fmt, data[4 : 4 + struct.calcsize(fmt)])[0]
        elif box.type == b"trex":
            data = body(reader, box, 24)
            track_id, _desc, default_duration = struct.unpack(">III", data[4:16])
            for track in movie.tracks:
                if track.track_id == track_id:
                    track.default_duration = default_duration


def _read_trak(reader: Reader, trak: Box) -> _Track:
    track = _Track()
    for box in children(reader, trak):
        if box.type == b"tkhd":
            data = body(reader, box, 104)  # version 1 is 104 bytes long
            if data[0] == 1:
                track.track_id = struct.unpack(">I", data[20:24])[0]
                w, h = struct.unpack(">II", data[88:96]) if len(data) >= 96 else (0, 0)
            else:
                track.track_id = struct.unpack(">I", data[12:16])[0]
                w, h = struct.unpack(">II", data[76:84])
            track.tkhd_size = (w >> 16, h >> 16)
        elif box.type == b"mdia":
            _read_mdia(reader, box, track)
    return track


def _read_mdia(reader: Reader, mdia: Box, track: _Track) -> None:
    minf: Box | None = None
    for box in children(reader, mdia):
        if box.type == b"mdhd":
            data = body(reader, box, 36)
            if data[0] == 1:
                track.timescale, track.duration = struct.unpack(">IQ", data[20:32])
                lang = struct.unpack(">H", data[32:34])[0]
            else:
                track.timescale, track.duration = struct.unpack(">II", data[12:20])
                lang = struct.unpack(">H", data[20:22])[0]
            track.language = _language(lang)
        elif box.type == b"hdlr":
            track.handler = body(reader, box, 12)[8:12]
        elif box.type == b"minf":
            minf = box
    if minf is None or track.handler not in (b"vide", b"soun", b"tmcd"):
        return  # data and subtitle tracks: counted, not read
    for box in children(reader, minf):
        if box.type == b"stbl":
            if track.handler == b"tmcd":
                track.timecode = _tmcd_timecode(reader, box)
            else:
                _read_stbl(reader, box, track)
            return


def _language(code: int) -> str | None:
    if code < 0x400 or code == 0x7FFF:
        return None  # a QuickTime Macintosh language code, or unset
    letters = "".join(chr(((code >> shift) & 0x1F) + 0x60) for shift in (10, 5, 0))
    return letters if letters.isalpha() else None


def _read_stbl(reader: Reader, stbl: Box, track: _Track) -> None:
    want = {b"stsd", b"stts"} if track.handler == b"vide" else {b"stsd"}
    for box in children(reader, stbl):
        if box.type == b"stsd":
            track.entry = parse_stsd(body(reader, box, 64 * 1024), track.handler)
            if _needs_first_sample(track.entry):
                want.add(b"stco")
        elif box.type == b"stts":
            track.frame_rate = _stts_rate(reader, box, track.timescale)
        elif box.type in (b"stco", b"co64") and track.entry is not None:
            track.entry = _with_first_sample(reader, box, track.entry)
            want.discard(b"stco")
        want.discard(box.type)
        if not want:
            return  # the sample tables that follow are not needed


def _tmcd_timecode(reader: Reader, stbl: Box) -> str | None:
    """A QuickTime timecode track's start: its sample description (flags, frames per
    second) and its first sample, a 32-bit frame number at the first chunk's offset.

    Read as libavformat does (the sample is taken as a frame counter, whatever the counter
    flag says): drop-frame and 24-hour flags from the description.
    """
    entry: bytes | None = None
    first: int | None = None
    for box in children(reader, stbl):
        if box.type == b"stsd":
            entry = body(reader, box, 64)
        elif box.type in (b"stco", b"co64"):
            wide = box.type == b"co64"
            head = body(reader, box, 16 if wide else 12)
            if len(head) >= (16 if wide else 12) and struct.unpack(">I", head[4:8])[0]:
                fmt = ">Q" if wide else ">I"
                first = struct.unpack(fmt, head[8 : 8 + struct.calcsize(fmt)])[0]
        if entry is not None and first is not None:
            break
    if entry is None or first is None or len(entry) < 42 or entry[12:16] != b"tmcd":
        return None
    flags, timescale, frame_duration, nb_frames = struct.unpack(">IIIB", entry[28:41])
    fps = nb_frames or (round(timescale / frame_duration) if frame_duration else 0)
    sample = reader.read(first, 4)
    if fps <= 0 or len(sample) < 4:
        return None
    frame = struct.unpack(">I", sample)[0]
    drop = bool(flags & 0x1) and fps % 30 == 0
    if flags & 0x2:  # 24-hour maximum: the label wraps at midnight
        frame %= _day_frames(fps, drop)
    return Timecode(frame, fps, drop).label


def _day_frames(fps: int, drop: bool) -> int:
    return 24 * (Timecode.parse("01:00:00;00", fps).frames if drop else 3600 * fps)


def _needs_first_sample(entry: SampleEntry | None) -> bool:
    """Codecs whose profile / pix_fmt only the stream carries (MPEG-2 as XDCAM, DNxHD)."""
    return entry is not None and entry.profile is None and entry.codec in _IN_BAND


def _with_first_sample(reader: Reader, chunks: Box, entry: SampleEntry) -> SampleEntry:
    """The sample entry completed from the headers at the start of the first chunk.

    One small read of the chunk offset table, one of the media data (often a block already
    read: a moov-at-end file's media data starts the file).
    """
    wide = chunks.type == b"co64"
    head = body(reader, chunks, 16 if wide else 12)
    if len(head) < (16 if wide else 12) or not struct.unpack(">I", head[4:8])[0]:  # no entries
        return entry
    offset = struct.unpack(">Q", head[8:16])[0] if wide else struct.unpack(">I", head[8:12])[0]
    found = elementary.in_band_at(reader, entry.codec, offset, _FRAME_PEEK)
    if found is None:
        return entry
    return replace(
        entry,
        profile=found.profile,
        pix_fmt=found.pix_fmt,
        field_order=entry.field_order or found.field_order,  # ``fiel`` wins, as in libavformat
    )


def _stts_rate(reader: Reader, stts: Box, timescale: int) -> float | None:
    """Frame rate from the dominant sample delta of the first ``stts`` entries."""
    head = body(reader, stts, 8)
    entries = struct.unpack(">I", head[4:8])[0]
    count = min(entries, _STTS_ENTRIES, (stts.size - stts.header - 8) // 8)
    if count <= 0 or timescale <= 0:
        return None
    data = reader.read(stts.body + 8, count * 8)
    weight: dict[int, int] = {}
    for i in range(len(data) // 8):
        samples, delta = struct.unpack(">II", data[i * 8 : i * 8 + 8])
        if delta:
            weight[delta] = weight.get(delta, 0) + samples
    if not weight:
        return None
    delta = max(weight, key=lambda d: weight[d])
    return timescale / delta


def _duration(reader: Reader, movie: _Movie, moov: Box) -> float | None:
    if not movie.fragmented:
        if movie.timescale and movie.duration:
            return movie.duration / movie.timescale
        return _max_track_duration(movie)
    if any(t.handler == b"vide" and t.frame_rate is None for t in movie.tracks):
        first = read_header(reader, moov.end, reader.size)
        if first is not None and first.type == b"moof" and first.end <= reader.size:
            _moof_end(reader, first, movie)  # fills the frame rate from the sample durations
    if movie.fragment_duration and movie.timescale:
        return movie.fragment_duration / movie.timescale
    end = _fragments_end(reader, movie, moov)
    if end is not None:
        return end
    return _max_track_duration(movie)


def _max_track_duration(movie: _Movie) -> float | None:
    spans = [t.duration / t.timescale for t in movie.tracks if t.timescale and t.duration]
    return max(spans) if spans else None


def _fragments_end(reader: Reader, movie: _Movie, moov: Box) -> float | None:
    """The end time of the last fragment: via ``mfro``/``mfra``, else a tail scan for moof."""
    offset = _last_moof_from_mfra(reader)
    if offset is None:
        offset = _last_moof_from_tail(reader, moov.end)
    if offset is None:
        return None
    box = read_header(reader, offset, reader.size)
    if box is None or box.type != b"moof" or box.end > reader.size:
        return None
    # mfra lists random-access fragments only: fragments without a key frame may follow.
    last = cursor = box
    after: Box | None = None
    for _ in range(_MAX_CHILDREN):
        try:
            after = read_header(reader, cursor.end, reader.size)
        except ParseError:
            after = None  # junk after the fragments: not ours to judge
        if after is None or after.end > reader.size or after.type == b"mfra":
            break
        if after.type == b"moof":
            last = after
        cursor = after
    movie.cut_fragment = after is not None and after.end > reader.size
    return _moof_end(reader, last, movie)


def _last_moof_from_mfra(reader: Reader) -> int | None:
    size = reader.size
    if size < 16:
        return None
    tail = reader.read(size - 16, 16)
    if tail[4:8] != b"mfro":
        return None
    mfra_size = struct.unpack(">I", tail[12:16])[0]
    if mfra_size < 16 or mfra_size > size:
        return None
    mfra = read_header(reader, size - mfra_size, size)
    if mfra is None or mfra.type != b"mfra":
        return None
    best: int | None = None
    for box in children(reader, mfra):
        if box.type != b"tfra":
            continue
        head = body(reader, box, 16)
        version = head[0]
        sizes = struct.unpack(">I", head[8:12])[0]
        entries = struct.unpack(">I", head[12:16])[0]
        if not entries:
            continue
        entry_len = (16 if version == 1 else 8) + sum(
            ((sizes >> shift) & 3) + 1 for shift in (4, 2, 0)
        )
        last = reader.read(box.body + 16 + (entries - 1) * entry_len, entry_len)
        fmt = ">Q" if version == 1 else ">I"
        step = struct.calcsize(fmt)
        moof_offset = struct.unpack(fmt, last[step : 2 * step])[0]
        best = moof_offset if best is None else max(best, moof_offset)
    return best


def _last_moof_from_tail(reader: Reader, start: int) -> int | None:
    """Find the last ``moof`` header in the file's tail (growing windows, 64 KiB to 4 MiB).

    Each window reads only the bytes the previous one did not, so the whole search costs at
    most 4 MiB.
    """
    size = reader.size
    window = 64 * 1024
    hi = size  # data holds [lo, size)
    data = b""
    while True:
        lo = max(start, size - window)
        data = reader.read(lo, hi - lo) + data
        hi = lo
        pos = data.rfind(b"moof")
        while pos >= 4:
            offset = lo + pos - 4
            box_size = struct.unpack(">I", data[pos - 4 : pos])[0]
            if 16 <= box_size <= size - offset and data[pos + 8 : pos + 12] == b"mfhd":
                return offset
            pos = data.rfind(b"moof", 0, pos)
        if lo == start or window >= 4 * 1024 * 1024:
            return None
        window *= 4


def _moof_end(reader: Reader, moof: Box, movie: _Movie) -> float | None:
    """The latest track end time (seconds) in a moof: tfdt + the sum of its sample durations.

    Also sets a video track's missing frame rate from this fragment's sample durations.
    """
    ends: list[float] = []
    for traf in children(reader, moof):
        if traf.type != b"traf":
            continue
        track: _Track | None = None
        base_time: int | None = None
        default_duration = 0
        total = 0
        deltas: dict[int, int] = {}
        for box in children(reader, traf):
            if box.type == b"tfhd":
                data = body(reader, box, 40)
                flags = int.from_bytes(data[1:4], "big")
                track_id = struct.unpack(">I", data[4:8])[0]
                track = next((t for t in movie.tracks if t.track_id == track_id), None)
                default_duration = track.default_duration if track else 0
                pos = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                if flags & 0x08:
                    default_duration = struct.unpack(">I", data[pos : pos + 4])[0]
            elif box.type == b"tfdt":
                data = body(reader, box, 12)
                fmt = ">Q" if data[0] == 1 else ">I"
                base_time = struct.unpack(fmt, data[4 : 4 + struct.calcsize(fmt)])[0]
            elif box.type == b"trun":
                total += _trun_duration(reader, box, default_duration, deltas)
        if track is None or not track.timescale:
            continue
        if base_time is not None:
            ends.append((base_time + total) / track.timescale)
        if track.handler == b"vide" and track.frame_rate is None and deltas:
            track.frame_rate = track.timescale / max(deltas, key=lambda d: deltas[d])
    return max(ends) if ends else None


def _trun_duration(reader: Reader, trun: Box, default_duration: int, deltas: dict[int, int]) -> int:
    """The summed sample durations of a ``trun``; counts each duration into ``deltas``."""
    head = body(reader, trun, 8)
    flags = int.from_bytes(head[1:4], "big")
    count: int = struct.unpack(">I", head[4:8])[0]
    if not flags & 0x100:
        if default_duration and count:
            deltas[default_duration] = deltas.get(default_duration, 0) + count
        return count * default_duration
    pos = 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    per_sample = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    data = reader.read(trun.body + pos, min(count * per_sample, trun.size - trun.header - pos))
    total = 0
    for i in range(0, len(data) - per_sample + 1, per_sample):
        duration = struct.unpack(">I", data[i : i + 4])[0]
        deltas[duration] = deltas.get(duration, 0) + 1
        total += duration
    return total


def _facts(movie: _Movie, duration_s: float | None, status: ProbeStatus) -> Facts:
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    subtitles = 0
    for track in movie.tracks:
        entry = track.entry
        if track.handler == b"vide" and video is None and entry is not None:
            width, height = entry.width, entry.height
            if not (width and height) and track.tkhd_size:
                width, height = track.tkhd_size
            video = VideoInfo(
                codec=entry.codec,
                profile=entry.profile,
                width=width or None,
                height=height or None,
                frame_rate=track.frame_rate,
                pix_fmt=entry.pix_fmt,
                field_order=entry.field_order,
            )
        elif track.handler == b"soun" and entry is not None:
            audio.append(
                AudioInfo(
                    codec=entry.codec,
                    channels=entry.channels,
                    sample_rate=entry.sample_rate,
                    language=track.language,
                )
            )
        elif track.handler in _SUBTITLE_HANDLERS:
            subtitles += 1
    timecode = next((t.timecode for t in movie.tracks if t.timecode), None)
    creation = None
    if movie.creation:
        moment = _MAC_EPOCH + timedelta(seconds=movie.creation)
        creation = moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    return Facts(
        container=FORMAT_NAME,
        format_long_name=FORMAT_LONG_NAME,
        status=status,
        duration_s=duration_s,
        video=video,
        audio=tuple(audio),
        subtitle_count=subtitles,
        creation_time=creation,
        error="file ends before the media data" if status is ProbeStatus.TRUNCATED else None,
        timecode=timecode,
    )
