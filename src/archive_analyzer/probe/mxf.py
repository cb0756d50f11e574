"""MXF (SMPTE 377): the header partition's metadata, and the footer when the header is open.

Reads the header partition pack (KLV, BER lengths), then its header metadata: the primer pack
and the local sets (packages, tracks, sequences, source clips, descriptors). Streams follow the
material package's tracks as libavformat lists them; sizes and codecs come from the picture and
sound descriptors, durations from the track sequences (else the descriptors'
ContainerDuration). A header that is open or incomplete (a growing capture, or a file written
to a pipe) carries no durations: the Random Index Pack at the end of the file points to the
footer partition, whose header metadata (when closed) or index table segments give them, and
the file is reported ``incomplete``. A FooterPartition offset beyond the end means truncated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import elementary, mxf_labels, riff
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo
from archive_analyzer.timecode import Timecode

CONTAINER = "mxf"
LONG_NAME = "MXF (Material eXchange Format)"

UL_PREFIX = b"\x06\x0e\x2b\x34"
_PARTITION = bytes.fromhex("060e2b34020501010d01020101")  # + kind (2/3/4) + status + 00
_PRIMER = bytes.fromhex("060e2b34020501010d01020101050100")
_RIP = bytes.fromhex("060e2b34020501010d01020101110100")
_SET = bytes.fromhex("060e2b34025301010d01010101")  # local set; bytes 13-14 name the set
_INDEX_SEGMENT = bytes.fromhex("060e2b34025301010d01020101100100")
_FILL_HEAD = bytes.fromhex("060e2b34010101")  # KLV fill; byte 7 is the registry version
_FILL_TAIL = bytes.fromhex("0301021001000000")

_RUN_IN_MAX = 65536  # SMPTE 377 allows a run-in before the header partition
_MAX_HEADER_METADATA = 4 * 1024 * 1024
_MAX_INDEX_READ = 64 * 1024  # index segment heads: their entry arrays are not needed
_MAX_SETS = 20_000
_ESSENCE_PEEK = 4096  # of the first essence: sequence header / SPS / frame header
_IN_BAND = ("mpeg1video", "mpeg2video", "h264", "dnxhd")  # codecs whose headers are in-band

# Local set kinds (byte 13-14 of the set key).
_MATERIAL_PACKAGE = 0x0136
_SOURCE_PACKAGE = 0x0137
_TRACKS = (0x013A, 0x013B)  # static track, timeline track
_SEQUENCE = 0x010F
_SOURCE_CLIP = 0x0111
_MULTIPLE_DESCRIPTOR = 0x0144
_PICTURE_DESCRIPTORS = (0x0127, 0x0128, 0x0129, 0x0151)
_SOUND_DESCRIPTORS = (0x0142, 0x0147, 0x0148)
_IDENTIFICATION = 0x0130
_PREFACE = 0x012F
_TIMECODE_COMPONENT = 0x0114
_SYSTEM_METADATA = bytes.fromhex("060e2b34020501010d01030104010100")  # SMPTE 326M / 385M pack


@dataclass(slots=True)
class _Set:
    kind: int
    items: dict[int, bytes] = field(default_factory=dict)

    def uint(self, tag: int) -> int | None:
        value = self.items.get(tag)
        return int.from_bytes(value, "big") if value and len(value) <= 8 else None

    def sint(self, tag: int) -> int | None:
        value = self.items.get(tag)
        return int.from_bytes(value, "big", signed=True) if value and len(value) <= 8 else None

    def rational(self, tag: int) -> float | None:
        value = self.items.get(tag)
        if value is None or len(value) != 8:
            return None
        num, den = struct.unpack(">ii", value)
        return num / den if den > 0 and num > 0 else None

    def refs(self, tag: int) -> list[bytes]:
        value = self.items.get(tag, b"")
        if len(value) < 8:
            return []
        count, size = struct.unpack(">II", value[:8])
        if size != 16:
            return []
        return [value[8 + 16 * i : 24 + 16 * i] for i in range(min(count, (len(value) - 8) // 16))]


@dataclass(frozen=True, slots=True)
class _Partition:
    offset: int
    kind: int  # 2 header, 3 body, 4 footer
    status: int  # 1 open incomplete, 2 closed incomplete, 3 open complete, 4 closed complete
    footer: int
    header_bytes: int
    index_bytes: int
    end: int  # first byte after the partition pack KLV

    @property
    def closed_complete(self) -> bool:
        return self.status == 4


@malformed_is_parse_error("mxf: malformed KLV")
def parse(reader: Reader) -> Facts:
    """Read an MXF file's facts from its header partition (and footer when open).

    Raises ParseError when the bytes are not MXF; lets BudgetExceeded through.
    """
    size = reader.size
    head = reader.read(0, min(size, 16 * 1024))
    start = head.find(_PARTITION)
    if start < 0 and size > len(head):
        head = reader.read(0, min(size, _RUN_IN_MAX + 256))
        start = head.find(_PARTITION)
    if start < 0 or start > _RUN_IN_MAX:
        raise ParseError("mxf: no header partition pack")
    header = _partition(reader, start)
    if header.kind != 2:
        raise ParseError("mxf: the first partition is not a header partition")
    sets = _metadata(reader, header)

    status = ProbeStatus.OK
    if header.footer and header.footer >= size:
        status = ProbeStatus.TRUNCATED
    index_duration: float | None = None
    if not header.closed_complete and status is ProbeStatus.OK:
        footer = _footer(reader, header)
        if footer is not None and footer.closed_complete and footer.header_bytes:
            sets = _metadata(reader, footer)  # the footer repeats the finished metadata
        else:
            status = ProbeStatus.INCOMPLETE
            if footer is not None and footer.index_bytes:
                index_duration = _index_duration(reader, footer)
    facts = _facts(sets, status, index_duration)
    if facts.video is not None and facts.video.codec in _IN_BAND:
        facts = replace(facts, video=_with_essence(reader, header, facts.video))
    if facts.timecode is None:
        facts = replace(facts, timecode=_system_item_timecode(reader, header))
    return facts


def _material_timecode(sets: dict[bytes, _Set]) -> str | None:
    """The start timecode of the material package's timecode track, as libavformat reads it:
    a track whose sequence is a Timecode Component, or a sequence holding one."""
    material = next((s for s in sets.values() if s.kind == _MATERIAL_PACKAGE), None)
    if material is None:
        return None
    for ref in material.refs(0x4403):
        track = sets.get(ref)
        sequence = sets.get(track.items.get(0x4803, b"")) if track is not None else None
        if sequence is None:
            continue
        components = (
            [sequence]
            if sequence.kind == _TIMECODE_COMPONENT
            else [found for r in sequence.refs(0x1001) if (found := sets.get(r)) is not None]
        )
        for component in components:
            if component.kind != _TIMECODE_COMPONENT:
                continue
            start = component.sint(0x1501)
            base = component.uint(0x1502)
            if start is None or start < 0 or not base:
                continue
            drop = component.uint(0x1503) == 1 and base % 30 == 0
            return Timecode(start, base, drop).label
    return None


def _system_item_timecode(reader: Reader, header: _Partition) -> str | None:
    """The SMPTE 12M timecode of the system item that opens the first content package (the
    user date/time stamp of the system metadata pack), for files without a timecode track.

    One small read at the first essence (already in a cached block when the essence headers
    were read).
    """
    pos = _skip_fill(reader, header.end) + header.header_bytes + header.index_bytes
    for _ in range(8):  # past fill and a body partition pack (and its own fill)
        data = reader.read(_skip_fill(reader, pos), 96)
        if data[:13] != _PARTITION:
            break
        length, ber_len = _ber(data, 16)
        pos = _skip_fill(reader, pos) + 16 + ber_len + length
    if data[:16] != _SYSTEM_METADATA:
        return None
    length, ber_len = _ber(data, 16)
    value = data[16 + ber_len : 16 + ber_len + length]
    if len(value) < 57 or value[0] & 0x10 == 0:  # bitmap bit 4: a user date/time stamp
        return None
    # content package rate: an index (bits 1-6; bit 0 is the 1000/1001 flag)
    fps = {1: 24, 2: 25, 3: 30, 4: 48, 5: 50, 6: 60}.get(value[1] >> 1)
    stamp = value[40:57]
    if fps is None or stamp[0] != 0x81:  # 0x81: SMPTE 12M timecode
        return None
    ff, ss, mm, hh = stamp[1], stamp[2], stamp[3], stamp[4]
    drop = bool(ff & 0x40) and fps % 30 == 0
    sep = ";" if drop else ":"
    label = f"{_bcd(hh & 0x3F):02d}:{_bcd(mm & 0x7F):02d}:{_bcd(ss & 0x7F):02d}{sep}"
    label += f"{_bcd(ff & 0x3F):02d}"
    try:
        return Timecode.parse(label, fps).label
    except ValueError:
        return None


def _bcd(byte: int) -> int:
    return (byte >> 4) * 10 + (byte & 0x0F)


def _with_essence(reader: Reader, header: _Partition, video: VideoInfo) -> VideoInfo:
    """Profile, pix_fmt and field order from the headers at the start of the first essence.

    The first essence follows the header partition's metadata and index. The descriptors
    rarely name the profile (MPEG-2's is behind a dynamic local tag), and ffprobe reports
    what the stream says.
    """
    start = _skip_fill(reader, header.end) + header.header_bytes + header.index_bytes
    found = elementary.in_band_at(reader, video.codec, start, _ESSENCE_PEEK)
    if found is None:
        return video
    return replace(
        video,
        profile=found.profile,
        pix_fmt=found.pix_fmt,
        field_order=video.field_order or found.field_order,
    )


def _partition(reader: Reader, offset: int) -> _Partition:
    data = reader.read(offset, 256)
    if data[:13] != _PARTITION:
        raise ParseError(f"mxf: no partition pack at {offset}")
    length, ber_len = _ber(data, 16)
    value = data[16 + ber_len : 16 + ber_len + length]
    if len(value) < 64:
        raise ParseError("mxf: short partition pack")
    _maj, _min, _kag, _this, _prev, footer, header_bytes, index_bytes = struct.unpack(
        ">HHIQQQQQ", value[:48]
    )
    return _Partition(
        offset=offset,
        kind=data[13],
        status=data[14],
        footer=footer,
        header_bytes=header_bytes,
        index_bytes=index_bytes,
        end=offset + 16 + ber_len + length,
    )


def _skip_fill(reader: Reader, pos: int) -> int:
    for _ in range(8):
        data = reader.read(pos, 24)
        if len(data) < 17 or data[:7] != _FILL_HEAD or data[8:16] != _FILL_TAIL:
            return pos
        length, ber_len = _ber(data, 16)
        pos += 16 + ber_len + length
    return pos


def _metadata(reader: Reader, partition: _Partition) -> dict[bytes, _Set]:
    """The local sets of a partition's header metadata, by InstanceUID."""
    if partition.header_bytes == 0:
        return {}
    if partition.header_bytes > _MAX_HEADER_METADATA:
        raise ParseError(f"mxf: {partition.header_bytes} bytes of header metadata is too many")
    start = _skip_fill(reader, partition.end)
    data = reader.read(start, partition.header_bytes)
    sets: dict[bytes, _Set] = {}
    pos = 0
    for _ in range(_MAX_SETS):
        if pos + 17 > len(data):
            break
        key = data[pos : pos + 16]
        try:
            length, ber_len = _ber(data, pos + 16)
        except ValueError:
            length, ber_len = -1, 0
        if not key.startswith(UL_PREFIX) or length < 0:
            if sets:
                break  # writers disagree on what HeaderByteCount covers: keep what was read
            raise ParseError("mxf: header metadata is not KLV")
        body = data[pos + 16 + ber_len : pos + 16 + ber_len + length]
        pos += 16 + ber_len + length
        if key[:13] != _SET:
            continue  # primer pack, fill, dark metadata
        local = _Set(kind=(key[13] << 8) | key[14])
        item = 0
        while item + 4 <= len(body):
            tag, item_len = struct.unpack_from(">HH", body, item)
            local.items[tag] = body[item + 4 : item + 4 + item_len]
            item += 4 + item_len
        uid = local.items.get(0x3C0A)
        if uid is not None:
            sets[uid] = local
    return sets


def _footer(reader: Reader, header: _Partition) -> _Partition | None:
    """The footer partition: from the header's FooterPartition, else the Random Index Pack."""
    size = reader.size
    offset = header.footer
    if not offset and size >= 4:
        rip_len = int.from_bytes(reader.read(size - 4, 4), "big")
        if 16 + 4 + 12 <= rip_len <= min(size, 1024 * 1024):
            rip = reader.read(size - rip_len, rip_len)
            if rip[:16] == _RIP:
                length, ber_len = _ber(rip, 16)
                entries = rip[16 + ber_len : 16 + ber_len + length - 4]
                if len(entries) >= 12:
                    offset = int.from_bytes(entries[-8:], "big")
    if not offset or offset + 20 > size:
        return None
    try:
        footer = _partition(reader, offset)
    except ParseError:
        return None
    return footer if footer.kind == 4 else None


def _index_duration(reader: Reader, footer: _Partition) -> float | None:
    """Duration from the index table segments that follow a partition's header metadata."""
    pos = _skip_fill(reader, footer.end) + footer.header_bytes
    end = pos + footer.index_bytes
    best: float | None = None
    read = 0
    while pos + 20 <= end and read < _MAX_INDEX_READ:
        pos = _skip_fill(reader, pos)
        data = reader.read(pos, min(4096, end - pos))
        read += len(data)
        if len(data) < 20:
            break
        length, ber_len = _ber(data, 16)
        if data[:16] == _INDEX_SEGMENT:
            body = data[16 + ber_len : 16 + ber_len + length]
            segment = _Set(kind=0)
            item = 0
            while item + 4 <= len(body):
                tag, item_len = struct.unpack_from(">HH", body, item)
                if tag == 0x3F0A:  # the entry array: the facts are all before it
                    break
                segment.items[tag] = body[item + 4 : item + 4 + item_len]
                item += 4 + item_len
            rate = segment.rational(0x3F0B)
            start = segment.sint(0x3F0C) or 0
            duration = segment.sint(0x3F0D)
            if rate and duration and duration > 0:
                seconds = (start + duration) / rate
                best = seconds if best is None else max(best, seconds)
        pos += 16 + ber_len + length
    return best


# --- streams -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Stream:
    kind: str
    descriptor: _Set | None
    duration_s: float | None


def _facts(sets: dict[bytes, _Set], status: ProbeStatus, index_duration: float | None) -> Facts:
    streams = _streams(sets)
    if not streams:
        raise ParseError("mxf: no picture or sound tracks in the header metadata")
    durations = [s.duration_s for s in streams if s.duration_s]
    duration = max(durations) if durations else index_duration
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    for stream in streams:
        d = stream.descriptor
        if stream.kind == "picture" and video is None:
            video = _video(d) if d is not None else VideoInfo()
        elif stream.kind == "sound":
            audio.append(_audio(d) if d is not None else AudioInfo())
    return Facts(
        container=CONTAINER,
        format_long_name=LONG_NAME,
        status=status,
        duration_s=duration,
        video=video,
        audio=tuple(audio),
        timecode=_material_timecode(sets),
    )


def _streams(sets: dict[bytes, _Set]) -> list[_Stream]:
    """Picture and sound streams in material-package track order, each with its descriptor."""
    descriptors = [s for s in sets.values() if s.kind in _PICTURE_DESCRIPTORS + _SOUND_DESCRIPTORS]
    by_track: dict[int, _Set] = {}
    for d in descriptors:
        linked = d.uint(0x3006)
        if linked is not None:
            by_track.setdefault(linked, d)
    material = next((s for s in sets.values() if s.kind == _MATERIAL_PACKAGE), None)
    streams: list[_Stream] = []
    used: set[int] = set()
    if material is not None:
        for ref in material.refs(0x4403):
            track = sets.get(ref)
            if track is None or track.kind not in _TRACKS:
                continue
            sequence = sets.get(track.items.get(0x4803, b""))
            if sequence is None:
                continue
            kind = _data_kind(sequence.items.get(0x0201, b""))
            if kind is None:
                continue
            rate = track.rational(0x4B01)
            length = sequence.sint(0x0202)
            duration = length / rate if rate and length and length > 0 else None
            descriptor = _clip_descriptor(sets, sequence, by_track, kind)
            if descriptor is not None:
                used.add(id(descriptor))
            streams.append(_Stream(kind, descriptor, duration))
    if not streams:  # no usable material package: the descriptors alone
        for d in descriptors:
            kind = "picture" if d.kind in _PICTURE_DESCRIPTORS else "sound"
            streams.append(_Stream(kind, d, None))
    for stream in streams:
        if stream.duration_s is None and stream.descriptor is not None:
            rate = stream.descriptor.rational(0x3001)
            length = stream.descriptor.sint(0x3002)
            if rate and length and length > 0:
                stream.duration_s = length / rate
    for stream in streams:  # tracks whose descriptor was not linked: take one in order
        if stream.descriptor is None:
            wanted = _PICTURE_DESCRIPTORS if stream.kind == "picture" else _SOUND_DESCRIPTORS
            for d in descriptors:
                if d.kind in wanted and id(d) not in used:
                    stream.descriptor = d
                    used.add(id(d))
                    break
    return streams


def _clip_descriptor(
    sets: dict[bytes, _Set], sequence: _Set, by_track: dict[int, _Set], kind: str
) -> _Set | None:
    for ref in sequence.refs(0x1001):
        clip = sets.get(ref)
        if clip is None or clip.kind != _SOURCE_CLIP:
            continue
        source_track = clip.uint(0x1102)
        found = by_track.get(source_track) if source_track is not None else None
        if found is not None:
            wanted = _PICTURE_DESCRIPTORS if kind == "picture" else _SOUND_DESCRIPTORS
            if found.kind in wanted:
                return found
    return None


def _data_kind(ul: bytes) -> str | None:
    if len(ul) != 16:
        return None
    if ul[8:13] == bytes.fromhex("0103020201"):
        return "picture"
    if ul[8:13] == bytes.fromhex("0103020202"):
        return "sound"
    return None


def _video(d: _Set) -> VideoInfo:
    codec = mxf_labels.lookup(mxf_labels.PICTURE_CODING, d.items.get(0x3201)) or mxf_labels.lookup(
        mxf_labels.PICTURE_CONTAINERS, d.items.get(0x3004)
    )
    width = d.uint(0x3209) or d.uint(0x3205) or d.uint(0x3203)
    height = d.uint(0x3208) or d.uint(0x3204) or d.uint(0x3202)
    layout = d.uint(0x320C)
    if height and layout in (1, 4):  # separate fields / segmented frame: field height
        height *= 2
    return VideoInfo(
        codec=codec,
        width=width,
        height=height,
        frame_rate=d.rational(0x3001),
        field_order=_field_order(d, layout),
    )


def _field_order(d: _Set, layout: int | None) -> str | None:
    """The field order libavformat derives from FrameLayout, VideoLineMap and FieldDominance."""
    order = "progressive" if layout in (0, 4) else None  # full frame, segmented frame
    lines = d.items.get(0x320D, b"")
    if layout in (1, 4) and len(lines) >= 16:
        first, second = struct.unpack_from(">ii", lines, 8)
        dominance = d.uint(0x3212) or 0  # 0 / absent: default, 1: field 1 first, 2: last
        if first > 0 and second > 0 and dominance in (0, 1, 2):
            if (first + second) % 2:  # one odd, one even line: field 1 is the top field
                order = "tb" if dominance == 2 else "tt"
            else:
                order = "bt" if dominance == 2 else "bb"
    return order


def _audio(d: _Set) -> AudioInfo:
    bits = d.uint(0x3D01) or 16
    coding = d.items.get(0x3D06)
    codec = mxf_labels.lookup(mxf_labels.SOUND_CODING, coding) or mxf_labels.lookup(
        mxf_labels.SOUND_CONTAINERS, d.items.get(0x3004)
    )
    if codec == "pcm_s16le":
        codec = riff.pcm_codec(bits)
        if coding is not None and coding[8:13] == mxf_labels.PCM_BE:
            codec = riff.pcm_codec(bits, big_endian=True)
    rate = d.rational(0x3D03)
    return AudioInfo(
        codec=codec,
        channels=d.uint(0x3D07),
        sample_rate=round(rate) if rate else None,
    )


def _ber(data: bytes, pos: int) -> tuple[int, int]:
    """A BER length at ``pos``: (value, bytes used)."""
    first = data[pos]
    if first < 0x80:
        return first, 1
    count = first & 0x7F
    if count == 0 or count > 8 or pos + 1 + count > len(data):
        raise ValueError("bad BER length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), 1 + count
