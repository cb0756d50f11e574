"""ASF / WMV: the Header Object at the start of the file.

File Properties gives the play duration (100 ns units; it includes the preroll, in ms, which
libavformat subtracts), Stream Properties the streams (video: a BITMAPINFOHEADER, audio: a
WAVEFORMATEX). The frame rate is the Extended Stream Properties' AvgTimePerFrame when present;
otherwise (ffmpeg's own muxer writes none) it comes from the presentation times of the first
video payloads in the Data Object, as libavformat measures it. A file shorter than the size
File Properties declares is truncated.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import codecs, riff
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo

CONTAINER = "asf"
LONG_NAME = "ASF (Advanced / Active Streaming Format)"


def _guid(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


HEADER = _guid("75B22630-668E-11CF-A6D9-00AA0062CE6C")
DATA = _guid("75B22636-668E-11CF-A6D9-00AA0062CE6C")
FILE_PROPERTIES = _guid("8CABDCA1-A947-11CF-8EE4-00C00C205365")
STREAM_PROPERTIES = _guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365")
HEADER_EXTENSION = _guid("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
EXTENDED_STREAM_PROPERTIES = _guid("14E6A5CB-C672-4332-8399-A96952065B5A")
AUDIO_MEDIA = _guid("F8699E40-5B4D-11CF-A8FD-00805F5C442B")
VIDEO_MEDIA = _guid("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B")

_MAX_HEADER = 1024 * 1024
_MAX_OBJECTS = 512
_RATE_FRAMES = 12  # video presentation times sampled for a frame rate
_DATA_SCAN = 256 * 1024  # how much of the Data Object that sampling may read
_FILETIME_EPOCH_OFFSET = 11_644_473_600  # seconds from 1601-01-01 to 1970-01-01


@dataclass(slots=True)
class _Stream:
    number: int
    kind: str
    video: riff.BitmapInfo | None = None
    audio: riff.WaveFormat | None = None
    frame_100ns: int = 0


@malformed_is_parse_error("asf: malformed object")
def parse(reader: Reader) -> Facts:
    """Read an ASF / WMV file's facts from its Header Object (and a few data packets).

    Raises ParseError when the bytes are not ASF; lets BudgetExceeded through.
    """
    size = reader.size
    first = reader.read(0, 30)
    if len(first) < 30 or first[:16] != HEADER:
        raise ParseError("asf: no Header Object")
    header_size = struct.unpack_from("<Q", first, 16)[0]
    if not 30 <= header_size <= _MAX_HEADER:
        raise ParseError(f"asf: Header Object of {header_size} bytes")
    header = reader.read(0, header_size)

    play = preroll = declared = packet_size = 0
    streams: list[_Stream] = []
    ext_rates: dict[int, int] = {}  # stream number -> AvgTimePerFrame (100 ns)
    for guid, body in _objects(header, 30):
        if guid == FILE_PROPERTIES and len(body) >= 80:
            declared, _created, _packets, play, _send, preroll, _flags, packet_size = (
                struct.unpack_from("<QQQQQQII", body, 16)
            )
        elif guid == STREAM_PROPERTIES:
            stream = _stream(body)
            if stream is not None:
                streams.append(stream)
        elif guid == HEADER_EXTENSION and len(body) >= 22:
            for sub, sub_body in _objects(body, 22):
                if sub == EXTENDED_STREAM_PROPERTIES and len(sub_body) >= 64:
                    number = struct.unpack_from("<H", sub_body, 48)[0]
                    per_frame = struct.unpack_from("<Q", sub_body, 52)[0]
                    ext_rates[number] = per_frame
    if not streams:
        raise ParseError("asf: no Stream Properties Object")
    for s in streams:  # Extended Stream Properties may come before the streams they describe
        s.frame_100ns = ext_rates.get(s.number, 0)

    duration = (play / 1e7 - preroll / 1e3) if play else None
    if duration is not None and duration <= 0:
        duration = None
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    for s in streams:
        if s.kind == "video" and video is None:
            rate = 1e7 / s.frame_100ns if s.frame_100ns else None
            if rate is None:
                rate = _data_frame_rate(reader, header_size, packet_size, s.number)
            info = s.video
            codec = info.codec if info else None
            video = VideoInfo(
                codec=codec,
                width=info.width if info else None,
                height=info.height if info else None,
                frame_rate=rate,
                pix_fmt=codecs.fixed_pix_fmt(codec),
            )
        elif s.kind == "audio":
            wave = s.audio
            audio.append(
                AudioInfo(
                    codec=wave.codec if wave else None,
                    channels=wave.channels if wave else None,
                    sample_rate=wave.sample_rate if wave else None,
                )
            )
    status = ProbeStatus.TRUNCATED if declared and declared > size else ProbeStatus.OK
    return Facts(
        container=CONTAINER,
        format_long_name=LONG_NAME,
        status=status,
        duration_s=duration,
        video=video,
        audio=tuple(audio),
    )


def _stream(body: bytes) -> _Stream | None:
    if len(body) < 54:
        return None
    kind_guid = body[:16]
    type_len = struct.unpack_from("<I", body, 40)[0]
    flags = struct.unpack_from("<H", body, 48)[0]
    specific = body[54 : 54 + type_len]
    number = flags & 0x7F
    if kind_guid == VIDEO_MEDIA:
        return _Stream(number, "video", video=riff.parse_bitmapinfo(specific[11:]))
    if kind_guid == AUDIO_MEDIA:
        return _Stream(number, "audio", audio=riff.parse_waveformat(specific))
    return _Stream(number, "other")


def _objects(data: bytes, pos: int) -> list[tuple[bytes, bytes]]:
    """(GUID, body) of the ASF objects in ``data`` from ``pos``."""
    out: list[tuple[bytes, bytes]] = []
    while pos + 24 <= len(data) and len(out) < _MAX_OBJECTS:
        size = struct.unpack_from("<Q", data, pos + 16)[0]
        if size < 24:
            break
        out.append((data[pos : pos + 16], data[pos + 24 : pos + size]))
        pos += size
    return out


# --- data packets (frame rate when the header has none) ----------------------------------------

_LEN = (0, 1, 2, 4)


def _field(data: bytes, pos: int, kind: int) -> tuple[int, int]:
    width = _LEN[kind & 3]
    if width == 0:
        return 0, pos
    return int.from_bytes(data[pos : pos + width], "little"), pos + width


def _data_frame_rate(
    reader: Reader, header_size: int, packet_size: int, stream: int
) -> float | None:
    if not 64 <= packet_size <= 64 * 1024:
        return None
    start = header_size + 50  # Data Object header: GUID, size, file id, packet count, reserved
    times: set[int] = set()
    pos = start
    while pos + packet_size <= min(reader.size, start + _DATA_SCAN):
        packet = reader.read(pos, packet_size)
        pos += packet_size
        try:
            times.update(_packet_times(packet, stream))
        except (IndexError, struct.error):
            break
        if len(times) >= _RATE_FRAMES:
            break
    ordered = sorted(times)
    if len(ordered) < 3:
        return None
    span = ordered[-1] - ordered[0]
    return 1000 * (len(ordered) - 1) / span if span > 0 else None


def _packet_times(packet: bytes, stream: int) -> list[int]:
    """Presentation times (ms) of the media objects of ``stream`` starting in one packet."""
    pos = 0
    flags = packet[pos]
    if flags & 0x80:  # error correction data present
        pos += 1 + (flags & 0x0F)
    length_flags, property_flags = packet[pos], packet[pos + 1]
    pos += 2
    _, pos = _field(packet, pos, length_flags >> 5)  # packet length
    _, pos = _field(packet, pos, length_flags >> 1)  # sequence
    _, pos = _field(packet, pos, length_flags >> 3)  # padding length
    pos += 6  # send time, duration
    count, payload_len_type = 1, 0
    if length_flags & 1:
        count, payload_len_type = packet[pos] & 0x3F, packet[pos] >> 6
        pos += 1
    out: list[int] = []
    for _ in range(count):
        number = packet[pos] & 0x7F
        pos += 1
        _, pos = _field(packet, pos, property_flags >> 4)  # media object number
        offset, pos = _field(packet, pos, property_flags >> 2)  # offset into the object
        replicated, pos = _field(packet, pos, property_flags)
        pres: int | None = None
        if replicated >= 8:
            pres = struct.unpack_from("<I", packet, pos + 4)[0]
        elif replicated == 1:
            pres = offset  # compressed payloads: the offset field is the presentation time
        pos += replicated
        size = len(packet) - pos
        if length_flags & 1:
            size, pos = _field(packet, pos, payload_len_type)
        if number == stream and pres is not None and (offset == 0 or replicated == 1):
            out.append(pres)
        pos += size
        if pos > len(packet):
            break
    return out
